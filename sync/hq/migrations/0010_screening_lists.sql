-- depends: 0009_sales_daily
-- Sanctions and PEP lists as HQ imported them (`hotpot-hq lists import`): one current version per list format,
-- replaced whole in one transaction; every import is recorded (screening_imports) and audited.
CREATE TABLE screening_entries (
    list_format  text NOT NULL CHECK (list_format IN ('ofac', 'un', 'eu', 'ftm')),
    ref          text NOT NULL,
    name         text NOT NULL,
    aliases      jsonb NOT NULL DEFAULT '[]',
    birth        text[] NOT NULL DEFAULT '{}',
    nationality  text[] NOT NULL DEFAULT '{}',
    kind         text NOT NULL CHECK (kind IN ('sanction', 'pep')),
    programs     text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX screening_entries_list ON screening_entries (list_format);

CREATE TABLE screening_imports (
    id           bigserial PRIMARY KEY,
    list_format  text NOT NULL,
    sha256       text NOT NULL,
    entries      integer NOT NULL,
    imported_by  text NOT NULL,
    imported_at  timestamptz NOT NULL DEFAULT now()
);
