extension Schema {
    /// Billing's tables (docs/billing.md). Self-contained: it depends only on the first
    /// migration's `organizations` and `datasets`, so it may sit at any position after it.
    ///
    /// Money is INTEGER micro-dollars and units INTEGER in every column; cycles are TEXT
    /// "YYYY-MM", which sort as they should. The ledger is append-only: nothing updates or
    /// deletes its rows, and `(org, key)` is unique, so recording a cause twice stores it once.
    static let billing = """
        CREATE TABLE billing_accounts (
            org INTEGER PRIMARY KEY REFERENCES organizations(seq),
            plan TEXT NOT NULL,
            addon_enabled INTEGER NOT NULL,
            terms_version TEXT,
            terms_accepted_at INTEGER,
            payment_reference TEXT,
            payment_hint TEXT,
            budget INTEGER,                 -- micro-dollars per cycle, NULL for none
            unit_price INTEGER,             -- overrides, NULL to keep the plan's
            catalog_rows_per_unit INTEGER,
            model_rows_per_unit INTEGER,
            review_rows_per_unit INTEGER
        ) STRICT;

        CREATE TABLE billing_dataset_budgets (
            org INTEGER NOT NULL REFERENCES organizations(seq),
            dataset_id TEXT NOT NULL,
            limit_microdollars INTEGER NOT NULL,
            PRIMARY KEY (org, dataset_id)
        ) STRICT;

        CREATE TABLE billing_model_prices (
            org INTEGER NOT NULL REFERENCES organizations(seq),
            model_id TEXT NOT NULL,
            microdollars INTEGER NOT NULL,
            PRIMARY KEY (org, model_id)
        ) STRICT;

        CREATE TABLE billing_estimates (
            id TEXT PRIMARY KEY,
            org INTEGER NOT NULL REFERENCES organizations(seq),
            model_id TEXT NOT NULL,
            row_count INTEGER NOT NULL,
            image_count INTEGER NOT NULL,
            model_units INTEGER NOT NULL,
            inference INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) STRICT;

        -- Estimated spend of admitted runs that have not settled yet.
        CREATE TABLE billing_reservations (
            org INTEGER NOT NULL REFERENCES organizations(seq),
            run_id TEXT NOT NULL,
            microdollars INTEGER NOT NULL,
            datasets TEXT NOT NULL,         -- sorted, comma-separated dataset ids
            cycle TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (org, run_id)
        ) STRICT;

        CREATE TABLE billing_ledger (
            seq INTEGER PRIMARY KEY,
            org INTEGER NOT NULL REFERENCES organizations(seq),
            key TEXT NOT NULL,
            kind TEXT NOT NULL,
            model_id TEXT NOT NULL,
            datasets TEXT NOT NULL,
            run_id TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            units INTEGER NOT NULL,
            unit_price INTEGER NOT NULL,
            microdollars INTEGER NOT NULL,
            cycle TEXT NOT NULL,
            at INTEGER NOT NULL,
            price_book TEXT NOT NULL,
            UNIQUE (org, key)
        ) STRICT;
        CREATE INDEX billing_ledger_by_cycle ON billing_ledger(org, cycle);
        CREATE INDEX billing_ledger_by_time ON billing_ledger(org, at);

        -- Row count changes per dataset, written in the catalog's own transactions.
        CREATE TABLE billing_row_events (
            seq INTEGER PRIMARY KEY,
            org INTEGER NOT NULL,
            dataset_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            delta INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX billing_row_events_by_time ON billing_row_events(org, at);
        -- Rows stored before billing existed count from their dataset's creation.
        INSERT INTO billing_row_events (org, dataset_id, at, delta)
            SELECT org, id, created_at, row_count FROM datasets WHERE row_count > 0;

        CREATE TABLE billing_invoices (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            org INTEGER NOT NULL REFERENCES organizations(seq),
            cycle TEXT NOT NULL,
            closed_at INTEGER NOT NULL,
            plan TEXT NOT NULL,
            price_book TEXT NOT NULL,
            UNIQUE (org, cycle)
        ) STRICT;

        CREATE TABLE billing_invoice_lines (
            invoice INTEGER NOT NULL REFERENCES billing_invoices(seq),
            position INTEGER NOT NULL,
            kind TEXT NOT NULL,
            model_id TEXT NOT NULL,
            datasets TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            units INTEGER NOT NULL,
            unit_price INTEGER NOT NULL,
            microdollars INTEGER NOT NULL,
            PRIMARY KEY (invoice, position)
        ) STRICT;
        """
}
