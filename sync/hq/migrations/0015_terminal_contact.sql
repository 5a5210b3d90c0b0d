-- depends: 0014_items_daily
-- What HQ last heard from each terminal, for monitoring (docs/operations.md, "Monitoring"): when it last made a
-- request HQ could tie to its key (a signed pull or upload, or a push whose blocks verify), and how many records it
-- said it still had to send then (the X-Hotpot-Backlog header). A terminal with no sales still pulls every minute,
-- so "silent" means no contact at all, not only no blocks.
ALTER TABLE terminals ADD COLUMN last_seen_at timestamptz, ADD COLUMN backlog bigint CHECK (backlog >= 0);
