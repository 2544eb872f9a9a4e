/// The SQLite schema as an ordered list of migrations; the database records how many it has
/// applied in `PRAGMA user_version`.
///
/// Conventions: every table has an `INTEGER PRIMARY KEY` named `seq` (sqlite's rowid, what
/// other tables refer to) and, where the object is visible outside, a public random `id`.
/// Rows carry their organisation's `seq`, so every query is scoped with `org = ?`. Tables are
/// STRICT, so a wrongly typed value is an error, not a silent conversion.
///
/// Data rows are the exception, shaped for ingest: a row's rowid is its dataset's `seq`
/// shifted left by 40 bits plus its position in the dataset, so a dataset's rows are one
/// contiguous range of the table in ingest order (listing needs no index), and its public
/// id is that rowid encrypted (`RowIDCipher`, key in `meta`), so looking a row up by id
/// needs no index either. The only index written per row is the unique global key. Dataset
/// seqs (AUTOINCREMENT) and positions (`next_row`) only grow, so no rowid, and therefore
/// no id, is ever given out twice.
enum Schema {
    /// Migration n (counting from 1) moves a database from version n-1 to version n. Never
    /// edit a released migration: append a new one.
    static let migrations: [String] = [
        """
        CREATE TABLE organizations (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE api_keys (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            org INTEGER NOT NULL REFERENCES organizations(seq),
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            prefix TEXT NOT NULL,
            hash BLOB NOT NULL UNIQUE,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        ) STRICT;
        CREATE INDEX api_keys_by_org ON api_keys(org, seq);

        CREATE TABLE datasets (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            org INTEGER NOT NULL REFERENCES organizations(seq),
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            -- Both maintained in the same transaction as every insert and delete of rows.
            row_count INTEGER NOT NULL DEFAULT 0,
            next_row INTEGER NOT NULL DEFAULT 1,
            UNIQUE (org, name)
        ) STRICT;

        -- seq = (dataset seq << 40) | position in the dataset.
        CREATE TABLE data_rows (
            seq INTEGER PRIMARY KEY,
            org INTEGER NOT NULL,
            global_key TEXT NOT NULL,
            media_type TEXT NOT NULL,
            uri TEXT NOT NULL,
            content BLOB NOT NULL,
            text TEXT NOT NULL,
            metadata TEXT NOT NULL,     -- JSON object of strings
            attachments TEXT NOT NULL,  -- JSON array of {kind, value}
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (org, global_key)
        ) STRICT;

        CREATE TABLE ontologies (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            org INTEGER NOT NULL REFERENCES organizations(seq),
            name TEXT NOT NULL,
            features TEXT NOT NULL,     -- JSON feature tree
            created_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX ontologies_by_org ON ontologies(org, seq);

        CREATE TABLE labels (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            org INTEGER NOT NULL,
            data_row INTEGER NOT NULL REFERENCES data_rows(seq) ON DELETE CASCADE,
            ontology INTEGER NOT NULL REFERENCES ontologies(seq),
            feature_id TEXT NOT NULL,
            value TEXT NOT NULL,        -- JSON label value
            children TEXT NOT NULL,     -- JSON array of sub-labels
            model_run_id TEXT,
            confidence_ppm INTEGER,
            created_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX labels_by_row ON labels(data_row, seq);

        -- Settings of this database: the data row id key (16 random bytes).
        CREATE TABLE meta (
            name TEXT PRIMARY KEY,
            value ANY NOT NULL
        ) STRICT;
        INSERT INTO meta (name, value) VALUES ('row_id_key', randomblob(16));
        """,
        // 2: model runs, their rows and the prediction cache.
        """
        CREATE TABLE model_runs (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            org INTEGER NOT NULL REFERENCES organizations(seq),
            name TEXT NOT NULL,
            model_id TEXT NOT NULL,
            model_version TEXT NOT NULL,
            ontology INTEGER NOT NULL REFERENCES ontologies(seq),
            spec TEXT NOT NULL,             -- JSON: mapping, parameters, dataset ids
            request_id TEXT,
            state TEXT NOT NULL,
            error TEXT NOT NULL DEFAULT '',
            rows_total INTEGER NOT NULL,
            rows_done INTEGER NOT NULL DEFAULT 0,
            rows_failed INTEGER NOT NULL DEFAULT 0,
            rows_cached INTEGER NOT NULL DEFAULT 0,
            rows_with_predictions INTEGER NOT NULL DEFAULT 0,
            images INTEGER NOT NULL DEFAULT 0,
            tokens INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER,
            settled INTEGER NOT NULL DEFAULT 0,
            UNIQUE (org, request_id)
        ) STRICT;
        CREATE INDEX model_runs_by_org ON model_runs(org, seq);
        CREATE INDEX model_runs_open ON model_runs(seq) WHERE settled = 0;

        -- state: 0 pending, 1 predicted, 2 failed. data_row is data_rows.seq (no foreign key:
        -- deleting a row later leaves the run's record of it).
        CREATE TABLE run_rows (
            run INTEGER NOT NULL REFERENCES model_runs(seq),
            position INTEGER NOT NULL,
            data_row INTEGER NOT NULL,
            state INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            PRIMARY KEY (run, position)
        ) STRICT, WITHOUT ROWID;

        CREATE INDEX labels_by_run ON labels(model_run_id) WHERE model_run_id IS NOT NULL;

        -- A model's raw answer for a (row content, model version, parameters, targets) key.
        CREATE TABLE prediction_cache (
            org INTEGER NOT NULL,
            key BLOB NOT NULL,
            value BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (org, key)
        ) STRICT, WITHOUT ROWID;
        """,
        Schema.billing,
        // 4: review projects, the review queue, leases and decisions.
        Schema.review,
        // 5: preference projects.
        Schema.preference,
    ]

    /// The version this build writes.
    static var currentVersion: Int { migrations.count }

    /// Brings the database to `currentVersion` in one transaction; refuses a database written
    /// by a newer build, which this one would misread.
    static func migrate(_ connection: SQLiteConnection) throws(StorageError) {
        try connection.transaction { () throws(StorageError) in
            let version = try self.version(connection)
            guard version <= currentVersion else {
                throw StorageError.failedPrecondition(
                    "the database \(connection.path) has schema version \(version) but this build knows only up to "
                        + "\(currentVersion); run a newer Assay")
            }
            for n in version..<currentVersion { try connection.exec(migrations[n]) }
            if version != currentVersion { try connection.exec("PRAGMA user_version = \(currentVersion)") }
        }
    }

    /// How many bits of a data row's rowid hold its position in the dataset.
    static let positionBits: Int64 = 40

    /// Dataset seqs stay below this so their rows' rowids fit in 63 bits.
    static let maximumDatasets: Int64 = 1 << (63 - positionBits)

    /// The rowids of dataset `seq`'s rows: `lowerBound` is position 0, never used.
    static func rowRange(dataset seq: Int64) -> Range<Int64> {
        (seq << positionBits)..<((seq + 1) << positionBits)
    }

    /// The key of the data row id cipher.
    static func rowIDCipher(_ connection: SQLiteConnection) throws(StorageError) -> RowIDCipher {
        let key = try connection.queryFirst("SELECT value FROM meta WHERE name = 'row_id_key'") { $0.blob(0) }
        guard let key, let cipher = RowIDCipher(key: key) else {
            throw .internal("the database has no valid row id key")
        }
        return cipher
    }

    /// The version recorded in the file (0 for a new one).
    static func version(_ connection: SQLiteConnection) throws(StorageError) -> Int {
        try connection.queryFirst("PRAGMA user_version") { $0.int(0) } ?? 0
    }
}
