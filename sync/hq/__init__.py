"""The HQ server over PostgreSQL. Arrives with the HQ issue."""
