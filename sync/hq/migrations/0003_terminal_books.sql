-- depends: 0002_default_policy
-- HQ as the authority over what terminals report:
-- 1. Every book is keyed by the terminal that wrote it: a sale, shift or refund id is the terminal's own, so another
--    terminal that copies an id (a sale id is printed on the check) can never block the owner's chain.
-- 2. The menu's history: the price of every item at every menu version (= the update cursor), so a sale is checked
--    against the menu version the terminal sold under.
-- 3. Each terminal's chain state as HQ re-derives it: the menu and policy version in force, the last check number,
--    the users it created, whether it has enrolled yet (mints of sales made before are held until confirmed).
-- Ids that only one terminal may use (checks: "TERMINAL-N") keep their global keys.

ALTER TABLE refunds DROP CONSTRAINT refunds_sale_id_fkey;
ALTER TABLE token_reversals DROP CONSTRAINT token_reversals_refund_id_fkey;

ALTER TABLE shifts DROP CONSTRAINT shifts_pkey, ADD PRIMARY KEY (terminal_id, shift_id);

ALTER TABLE sales DROP CONSTRAINT sales_pkey, ADD PRIMARY KEY (terminal_id, sale_id);

ALTER TABLE sale_items ADD COLUMN terminal_id text;
UPDATE sale_items i SET terminal_id = s.terminal_id FROM sales s WHERE s.sale_id = i.sale_id;
ALTER TABLE sale_items ALTER COLUMN terminal_id SET NOT NULL,
    DROP CONSTRAINT sale_items_pkey, ADD PRIMARY KEY (terminal_id, sale_id, line_no);

ALTER TABLE payments ADD COLUMN terminal_id text;
UPDATE payments p SET terminal_id = s.terminal_id FROM sales s WHERE s.sale_id = p.sale_id;
ALTER TABLE payments ALTER COLUMN terminal_id SET NOT NULL,
    DROP CONSTRAINT payments_pkey, ADD PRIMARY KEY (terminal_id, sale_id, line_no);

ALTER TABLE checks ADD COLUMN terminal_id text;
UPDATE checks c SET terminal_id = s.terminal_id FROM sales s WHERE s.sale_id = c.sale_id;
ALTER TABLE checks ALTER COLUMN terminal_id SET NOT NULL, DROP CONSTRAINT checks_sale_id_key;
ALTER TABLE checks ADD UNIQUE (terminal_id, sale_id);

ALTER TABLE token_mints ADD COLUMN terminal_id text;
UPDATE token_mints m SET terminal_id = s.terminal_id FROM sales s WHERE s.sale_id = m.sale_id;
-- A mint of a sale made before its terminal enrolled is held (confirmed = false) until an hq_admin confirms it.
ALTER TABLE token_mints ALTER COLUMN terminal_id SET NOT NULL,
    ADD COLUMN confirmed boolean NOT NULL DEFAULT true,
    DROP CONSTRAINT token_mints_pkey, ADD PRIMARY KEY (terminal_id, sale_id);

ALTER TABLE refunds DROP CONSTRAINT refunds_pkey, ADD PRIMARY KEY (terminal_id, refund_id);

ALTER TABLE token_reversals ADD COLUMN terminal_id text;
UPDATE token_reversals v SET terminal_id = r.terminal_id FROM refunds r WHERE r.refund_id = v.refund_id;
ALTER TABLE token_reversals ALTER COLUMN terminal_id SET NOT NULL,
    DROP CONSTRAINT token_reversals_pkey, ADD PRIMARY KEY (terminal_id, refund_id, party);

-- The price (and whether it could be sold) of every menu item at every version: one row per change.
CREATE TABLE menu_item_history (
    item_id     text NOT NULL,
    update_seq  bigint NOT NULL,
    price       bigint NOT NULL CHECK (price > 0),
    active      boolean NOT NULL,
    name        text NOT NULL,
    PRIMARY KEY (item_id, update_seq)
);
INSERT INTO menu_item_history (item_id, update_seq, price, active, name)
SELECT id, update_seq, (data ->> 'price')::bigint, active, data -> 'name' ->> 'en' FROM menu_items;

-- The highest update cursor HQ has handed to a terminal (enrollment, updates): a terminal cannot sell under a
-- menu version it was never given.
ALTER TABLE terminals ADD COLUMN served_seq bigint NOT NULL DEFAULT 0;

-- What HQ has re-derived from each terminal's chain so far (sync/hq/rules.py ChainState as JSON), advanced with
-- every accepted block under the terminal's row lock.
CREATE TABLE terminal_state (
    terminal_id  text PRIMARY KEY REFERENCES terminals (id),
    state        jsonb NOT NULL
);
