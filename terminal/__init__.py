"""HotPot Spot counter terminal: the cashier's app, its offline store and ledger."""
