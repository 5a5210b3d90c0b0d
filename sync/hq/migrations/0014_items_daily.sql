-- depends: 0013_monthly_partitions
-- Items sold per node, UTC day and item, kept by a trigger as ingest books a block's items (one aggregated upsert
-- per COPY): the console's report by item reads it instead of every line of the month (1.1 s for a month of the
-- seed's busy chain, docs/performance.md). `sales` counts the sales that had the item; a sale's lines are booked by
-- one statement, so the distinct count of each statement adds up exactly.
CREATE TABLE sale_items_daily (
    day       date NOT NULL,
    node_id   bigint NOT NULL,
    item_id   text NOT NULL,
    name      text NOT NULL,
    sales     bigint NOT NULL,
    quantity  bigint NOT NULL,
    total     bigint NOT NULL,
    PRIMARY KEY (day, node_id, item_id)
);

CREATE FUNCTION sale_items_daily_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sale_items_daily (day, node_id, item_id, name, sales, quantity, total)
    SELECT (i.created_at AT TIME ZONE 'UTC')::date, t.node_id, i.item_id, min(i.name), count(DISTINCT i.sale_id),
           sum(i.quantity), sum(i.quantity * i.unit_price)
    FROM new_items i JOIN terminals t ON t.id = i.terminal_id GROUP BY 1, 2, 3
    ON CONFLICT (day, node_id, item_id) DO UPDATE SET name = least(sale_items_daily.name, EXCLUDED.name),
        sales = sale_items_daily.sales + EXCLUDED.sales, quantity = sale_items_daily.quantity + EXCLUDED.quantity,
        total = sale_items_daily.total + EXCLUDED.total;
    RETURN NULL;
END $$;

CREATE TRIGGER sale_items_daily_insert AFTER INSERT ON sale_items REFERENCING NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION sale_items_daily_add();

INSERT INTO sale_items_daily (day, node_id, item_id, name, sales, quantity, total)
SELECT (i.created_at AT TIME ZONE 'UTC')::date, t.node_id, i.item_id, min(i.name), count(DISTINCT i.sale_id),
       sum(i.quantity), sum(i.quantity * i.unit_price)
FROM sale_items i JOIN terminals t ON t.id = i.terminal_id GROUP BY 1, 2, 3;
