"""The terminal's ledger: appends business records in the caller's transaction; sealing arrives with the wallet."""
