"""Terminal <-> HQ synchronisation: the shared protocol, the terminal client and the HQ server."""
