"""The terminal's SQLite store: one database file, WAL, numbered migrations, and the repositories over it."""
