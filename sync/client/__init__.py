"""The terminal side of sync: pushes sealed blocks and pulls updates. Arrives with the sync issue."""
