"""The terminal's HD wallet (BIP39/BIP32): keystore and signer. Arrives with the wallet issue."""
