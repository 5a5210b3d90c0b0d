-- depends: 0008_console
-- Sales per node and UTC day, kept by triggers as sales are booked: the console's dashboard reads 30 days of it
-- (a few hundred rows) instead of aggregating up to a million sales per page (docs/performance.md). One aggregated
-- upsert per booked batch (ingest books a block's sales with one COPY); a mint changed after booking (an early sale
-- confirmed) adjusts its day.
CREATE TABLE sales_daily (
    node_id  bigint NOT NULL,
    day      date NOT NULL,
    sales    bigint NOT NULL,
    total    bigint NOT NULL,
    minted   bigint NOT NULL,
    PRIMARY KEY (day, node_id)
);

CREATE FUNCTION sales_daily_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sales_daily (node_id, day, sales, total, minted)
    SELECT node_id, (created_at AT TIME ZONE 'UTC')::date, count(*), sum(total), sum(minted)
    FROM new_sales GROUP BY 1, 2
    ON CONFLICT (day, node_id) DO UPDATE SET sales = sales_daily.sales + EXCLUDED.sales,
        total = sales_daily.total + EXCLUDED.total, minted = sales_daily.minted + EXCLUDED.minted;
    RETURN NULL;
END $$;

CREATE TRIGGER sales_daily_insert AFTER INSERT ON sales REFERENCING NEW TABLE AS new_sales
    FOR EACH STATEMENT EXECUTE FUNCTION sales_daily_add();

CREATE FUNCTION sales_daily_fix() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sales_daily SET minted = minted - OLD.minted + NEW.minted, total = total - OLD.total + NEW.total
    WHERE node_id = NEW.node_id AND day = (NEW.created_at AT TIME ZONE 'UTC')::date;
    RETURN NULL;
END $$;

CREATE TRIGGER sales_daily_update AFTER UPDATE OF minted, total ON sales FOR EACH ROW
    WHEN (OLD.minted IS DISTINCT FROM NEW.minted OR OLD.total IS DISTINCT FROM NEW.total)
    EXECUTE FUNCTION sales_daily_fix();

INSERT INTO sales_daily (node_id, day, sales, total, minted)
SELECT node_id, (created_at AT TIME ZONE 'UTC')::date, count(*), sum(total), sum(minted) FROM sales GROUP BY 1, 2;
