"""Wallet errors: each one's text is complete and may be shown to the owner as is."""

from __future__ import annotations

from sync.protocol.errors import UserFacingError


class WalletError(UserFacingError):
    code = "wallet_error"


class WrongPassphrase(WalletError):
    code = "wrong_passphrase"


class KeystoreDamaged(WalletError):
    code = "keystore_damaged"


class KeystoreUnsupported(WalletError):
    code = "keystore_unsupported"


class KeystoreForeign(WalletError):
    """The keystore (or the words) belong to another terminal's wallet."""

    code = "keystore_foreign"


class BadMnemonic(WalletError):
    code = "bad_mnemonic"


class KeystoreMissing(WalletError):
    code = "keystore_missing"
