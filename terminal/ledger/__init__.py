"""The terminal's ledger: records appended in the caller's transaction (journal), sealed into signed blocks and
verified (sealer, chainworker), and the sync progress of those blocks (progress)."""
