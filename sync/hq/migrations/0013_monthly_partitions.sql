-- depends: 0012_kyc_retention
-- The books that grow with every sale are partitioned by month (docs/performance.md, "Growth"): records, sales,
-- sale_items, payments and token_mints. A report over a month reads one partition whatever the size of the
-- history, and a month can later be detached, archived or dropped as a whole.
--
-- The month is the sale's time as the terminal recorded it (a record's created_at_ms for `records`); sale_items,
-- payments and token_mints carry their sale's created_at so that a join on it reaches one partition. The partition
-- key must be part of every unique key, so the keys gain it: a sale id is still unique per terminal because `checks`
-- (not partitioned) holds UNIQUE (terminal_id, sale_id) and a check per sale, and the check id is unique there too;
-- a record's (terminal_id, seq) is unique because a block's records follow its verified predecessor's exactly.
-- Each table has a DEFAULT partition for a time outside the months created (a terminal with a wrong clock): its
-- blocks are still stored, and creating that month later moves the rows into their partition.

-- The partitioned tables and the column their month is taken from.
CREATE TABLE hq_partitioned (
    table_name  text PRIMARY KEY,
    key_column  text NOT NULL,
    key_is_ms   boolean NOT NULL  -- the key is epoch milliseconds (bigint), not a timestamptz
);
INSERT INTO hq_partitioned VALUES ('records', 'created_at_ms', true), ('sales', 'created_at', false),
    ('sale_items', 'created_at', false), ('payments', 'created_at', false), ('token_mints', 'created_at', false);

-- Create one month's partition of one table (named table_YYYY_MM) if it does not exist yet, moving into it the
-- rows the default partition holds for that month. Returns true when it created the partition.
CREATE FUNCTION hq_create_month_partition(tbl text, month date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    p hq_partitioned;
    part text := format('%s_%s', tbl, to_char(month, 'YYYY_MM'));
    lo text;
    hi text;
BEGIN
    SELECT * INTO STRICT p FROM hq_partitioned WHERE table_name = tbl;
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    month := date_trunc('month', month)::date;
    IF p.key_is_ms THEN
        lo := (extract(epoch FROM month::timestamp AT TIME ZONE 'UTC') * 1000)::bigint::text;
        hi := (extract(epoch FROM (month + interval '1 month')::timestamp AT TIME ZONE 'UTC') * 1000)::bigint::text;
    ELSE
        lo := quote_literal(to_char(month, 'YYYY-MM-DD') || ' 00:00:00+00');
        hi := quote_literal(to_char(month + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
    END IF;
    -- Rows already in the default partition for this month would make the new bound fail: take them out first.
    EXECUTE format('CREATE TEMP TABLE hq_moving (LIKE %I) ON COMMIT DROP', tbl);
    EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %s AND %I < %s RETURNING *) '
                   'INSERT INTO hq_moving SELECT * FROM moved', tbl || '_default', p.key_column, lo, p.key_column, hi);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)', part, tbl, lo, hi);
    -- Straight into the partition: the root's statement triggers (the sales_daily rollup) counted them already.
    EXECUTE format('INSERT INTO %I SELECT * FROM hq_moving', part);
    DROP TABLE hq_moving;
    RETURN true;
END $$;

-- Every partitioned table has its partitions for each month from `first` to `last` (inclusive). Returns how many
-- partitions it created. HQ calls it at migrate and once a day for the months ahead.
CREATE FUNCTION hq_ensure_partitions(first date, last date) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    tbl text;
    month date;
    created integer := 0;
BEGIN
    FOR tbl IN SELECT table_name FROM hq_partitioned ORDER BY table_name LOOP
        month := date_trunc('month', first)::date;
        WHILE month <= last LOOP
            IF hq_create_month_partition(tbl, month) THEN
                created := created + 1;
            END IF;
            month := (month + interval '1 month')::date;
        END LOOP;
    END LOOP;
    RETURN created;
END $$;

-- The existing rows' month for the three child tables: their sale's time.
ALTER TABLE sale_items ADD COLUMN created_at timestamptz;
ALTER TABLE payments ADD COLUMN created_at timestamptz;
ALTER TABLE token_mints ADD COLUMN created_at timestamptz;
UPDATE sale_items i SET created_at = s.created_at FROM sales s WHERE s.terminal_id = i.terminal_id
    AND s.sale_id = i.sale_id;
UPDATE payments p SET created_at = s.created_at FROM sales s WHERE s.terminal_id = p.terminal_id
    AND s.sale_id = p.sale_id;
UPDATE token_mints m SET created_at = s.created_at FROM sales s WHERE s.terminal_id = m.terminal_id
    AND s.sale_id = m.sale_id;
UPDATE token_mints SET created_at = now() WHERE created_at IS NULL;  -- a mint without its sale: none are booked so

-- Each table is rebuilt as a partitioned one with the same columns, defaults and checks, and its rows copied over.
ALTER TABLE records RENAME TO records_unpartitioned;
ALTER INDEX records_pkey RENAME TO records_unpartitioned_pkey;
CREATE TABLE records (LIKE records_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (created_at_ms);
ALTER TABLE records ADD PRIMARY KEY (terminal_id, seq, created_at_ms);

ALTER TABLE sales RENAME TO sales_unpartitioned;
ALTER INDEX sales_pkey RENAME TO sales_unpartitioned_pkey;
ALTER INDEX sales_check_id_key RENAME TO sales_unpartitioned_check_id_key;
ALTER INDEX sales_created RENAME TO sales_unpartitioned_created;
CREATE TABLE sales (LIKE sales_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (created_at);
ALTER TABLE sales ADD PRIMARY KEY (terminal_id, sale_id, created_at);
CREATE INDEX sales_created ON sales (created_at);

ALTER TABLE sale_items RENAME TO sale_items_unpartitioned;
ALTER INDEX sale_items_pkey RENAME TO sale_items_unpartitioned_pkey;
CREATE TABLE sale_items (LIKE sale_items_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (created_at);
ALTER TABLE sale_items ALTER COLUMN created_at SET NOT NULL, ADD PRIMARY KEY (terminal_id, sale_id, line_no, created_at);

ALTER TABLE payments RENAME TO payments_unpartitioned;
ALTER INDEX payments_pkey RENAME TO payments_unpartitioned_pkey;
CREATE TABLE payments (LIKE payments_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (created_at);
ALTER TABLE payments ALTER COLUMN created_at SET NOT NULL, ADD PRIMARY KEY (terminal_id, sale_id, line_no, created_at);

ALTER TABLE token_mints RENAME TO token_mints_unpartitioned;
ALTER INDEX token_mints_pkey RENAME TO token_mints_unpartitioned_pkey;
ALTER INDEX token_mints_not_in_ledger RENAME TO token_mints_unpartitioned_not_in_ledger;
CREATE TABLE token_mints (LIKE token_mints_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (created_at);
ALTER TABLE token_mints ALTER COLUMN created_at SET NOT NULL, ADD PRIMARY KEY (terminal_id, sale_id, created_at);
CREATE INDEX token_mints_not_in_ledger ON token_mints (sale_id) WHERE ledger_seq IS NULL;

CREATE TABLE records_default PARTITION OF records DEFAULT;
CREATE TABLE sales_default PARTITION OF sales DEFAULT;
CREATE TABLE sale_items_default PARTITION OF sale_items DEFAULT;
CREATE TABLE payments_default PARTITION OF payments DEFAULT;
CREATE TABLE token_mints_default PARTITION OF token_mints DEFAULT;

-- Months from the oldest sale held (at most three years back: older rows stay in the default partition) to two
-- months ahead.
DO $$ BEGIN
    PERFORM hq_ensure_partitions(
        greatest(least((SELECT min(created_at) FROM sales_unpartitioned),
                       (SELECT to_timestamp(min(created_at_ms) / 1000.0) FROM records_unpartitioned), now()),
                 now() - interval '3 years')::date,
        (now() + interval '2 months')::date);
END $$;

INSERT INTO records SELECT * FROM records_unpartitioned;
INSERT INTO sales SELECT * FROM sales_unpartitioned;  -- before the rollup's triggers: sales_daily holds them already
INSERT INTO sale_items SELECT * FROM sale_items_unpartitioned;
INSERT INTO payments SELECT * FROM payments_unpartitioned;
INSERT INTO token_mints SELECT * FROM token_mints_unpartitioned;
DROP VIEW record_payloads;
DROP TABLE records_unpartitioned, sales_unpartitioned, sale_items_unpartitioned, payments_unpartitioned,
    token_mints_unpartitioned;

-- The payload of each record as jsonb, as before (migration 0001).
CREATE VIEW record_payloads AS
    SELECT terminal_id, seq, block_height, type, created_at_ms, convert_from(body, 'UTF8')::jsonb -> 'payload' AS payload
    FROM records;

CREATE TRIGGER sales_daily_insert AFTER INSERT ON sales REFERENCING NEW TABLE AS new_sales
    FOR EACH STATEMENT EXECUTE FUNCTION sales_daily_add();
CREATE TRIGGER sales_daily_update AFTER UPDATE OF minted, total ON sales FOR EACH ROW
    WHEN (OLD.minted IS DISTINCT FROM NEW.minted OR OLD.total IS DISTINCT FROM NEW.total)
    EXECUTE FUNCTION sales_daily_fix();

-- HQ's token ledger and its index by holder, partitioned by ranges of 5 million entries of the chain's sequence number
-- rather than by month: every reference to an entry is by its seq (claims, mints, refunds, expiries, the yearly
-- redistribution), and a month key would have to join every one of those keys and foreign keys. A range is about
-- the entries of 500,000 sales (a month of 170 busy counters). There is no default partition: the ranges are
-- created two ahead of the chain's head (at migrate and every six hours; 10 million entries of room).
CREATE FUNCTION hq_ensure_ledger_partitions(head bigint) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    size CONSTANT bigint := 5000000;
    k bigint;
    tbl text;
    part text;
    created integer := 0;
BEGIN
    FOR k IN 0 .. coalesce(head, 0) / size + 2 LOOP
        FOREACH tbl IN ARRAY ARRAY['token_ledger', 'token_ledger_holders'] LOOP
            part := format('%s_%s', tbl, lpad(k::text, 4, '0'));
            CONTINUE WHEN to_regclass(part) IS NOT NULL;
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)', part, tbl, k * size,
                           (k + 1) * size);
            created := created + 1;
        END LOOP;
    END LOOP;
    RETURN created;
END $$;

ALTER TABLE checks DROP CONSTRAINT checks_expired_seq_fkey;
ALTER TABLE claims DROP CONSTRAINT claims_ledger_seq_fkey;
ALTER TABLE token_redistributions DROP CONSTRAINT token_redistributions_ledger_seq_fkey;
ALTER TABLE refunds DROP CONSTRAINT refunds_ledger_seq_fkey;

ALTER TABLE token_ledger_holders RENAME TO token_ledger_holders_unpartitioned;
ALTER INDEX token_ledger_holders_pkey RENAME TO token_ledger_holders_unpartitioned_pkey;
ALTER TABLE token_ledger RENAME TO token_ledger_unpartitioned;
ALTER INDEX token_ledger_pkey RENAME TO token_ledger_unpartitioned_pkey;
ALTER INDEX token_ledger_hash_key RENAME TO token_ledger_unpartitioned_hash_key;
-- (the hash's own uniqueness goes: it could not span partitions, and each hash covers its seq, which is the key)
CREATE TABLE token_ledger (LIKE token_ledger_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (seq);
ALTER TABLE token_ledger ADD PRIMARY KEY (seq);
CREATE TABLE token_ledger_holders (LIKE token_ledger_holders_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (seq);
ALTER TABLE token_ledger_holders ADD PRIMARY KEY (holder, seq), ADD FOREIGN KEY (seq) REFERENCES token_ledger (seq);

DO $$ BEGIN
    PERFORM hq_ensure_ledger_partitions((SELECT max(seq) FROM token_ledger_unpartitioned));
END $$;
INSERT INTO token_ledger SELECT * FROM token_ledger_unpartitioned;
INSERT INTO token_ledger_holders SELECT * FROM token_ledger_holders_unpartitioned;
DROP TABLE token_ledger_holders_unpartitioned, token_ledger_unpartitioned;

ALTER TABLE checks ADD FOREIGN KEY (expired_seq) REFERENCES token_ledger (seq);
ALTER TABLE claims ADD FOREIGN KEY (ledger_seq) REFERENCES token_ledger (seq);
ALTER TABLE token_redistributions ADD FOREIGN KEY (ledger_seq) REFERENCES token_ledger (seq);
ALTER TABLE refunds ADD FOREIGN KEY (ledger_seq) REFERENCES token_ledger (seq);
ALTER TABLE token_mints ADD FOREIGN KEY (ledger_seq) REFERENCES token_ledger (seq);
