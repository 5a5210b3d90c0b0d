"""The terminal side of sync: pushes sealed blocks and pulls updates; talks to an Outbox the terminal implements."""
