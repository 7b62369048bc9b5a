-- Commerce: orders as the shops send them, the shops themselves, and
-- customer merges an admin can undo.
ALTER TABLE orders RENAME COLUMN total_cents TO total_minor;
ALTER TABLE orders ADD COLUMN shop TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN number TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN financial_status TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN fulfillment_status TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN refunded_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN tracking TEXT NOT NULL DEFAULT '[]';
ALTER TABLE orders ADD COLUMN admin_url TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN cancelled_at DATETIME;
ALTER TABLE orders ADD COLUMN source_updated_at DATETIME;
CREATE INDEX orders_number ON orders (tenant_id, number);

-- Contact keys that link a shop customer to a chat customer.
CREATE INDEX customers_phone ON customers (tenant_id, phone) WHERE phone <> '';
CREATE INDEX customers_email ON customers (tenant_id, email) WHERE email <> '';

-- A connected shop: one tenant per shop; what arrived from it and what
-- failed.
CREATE TABLE commerce_shops (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    source TEXT NOT NULL,
    domain TEXT NOT NULL,
    status TEXT NOT NULL,
    last_event_at DATETIME,
    last_event_topic TEXT NOT NULL,
    events_total INTEGER NOT NULL,
    failures_total INTEGER NOT NULL,
    last_failure TEXT NOT NULL,
    last_failure_at DATETIME,
    UNIQUE (source, domain)
);
CREATE INDEX commerce_shops_list ON commerce_shops (tenant_id, created_at, id);

-- A merge of two customers found to be one person: what moved from the
-- merged customer to the kept one, so that an admin can move it back.
CREATE TABLE customer_merges (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL,
    kept_customer_id TEXT NOT NULL,
    merged_customer_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    moved TEXT NOT NULL DEFAULT '{}',
    undone_at DATETIME,
    undone_by TEXT NOT NULL
);
CREATE INDEX customer_merges_list ON customer_merges (tenant_id, created_at, id);
CREATE INDEX customer_merges_kept ON customer_merges (tenant_id, kept_customer_id);
CREATE INDEX customer_merges_merged ON customer_merges (tenant_id, merged_customer_id);
