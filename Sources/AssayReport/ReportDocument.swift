/// Everything one comparison report shows, as plain values: the renderer turns it into HTML and
/// the builders (``ReportDocument/detection(title:categories:runs:seed:resamples:)`` and
/// ``ReportDocument/classification(title:ids:truth:runs:seed:resamples:)``) make it from metric results.
public struct ReportDocument: Sendable {
    public var title: String
    /// One line under the title (what was compared, the thresholds).
    public var subtitle: String
    /// Run names, in column order.
    public var runs: [String]
    public var summary: [SummaryRow]
    public var curves: [CurvePanel]
    public var confusions: [ConfusionPanel]
    public var deltas: [DeltaRow]
    public var worstRows: RowTable
    /// Free-form remarks shown at the end (how intervals were made, what is undefined).
    public var notes: [String]

    public init(
        title: String, subtitle: String = "", runs: [String], summary: [SummaryRow] = [], curves: [CurvePanel] = [],
        confusions: [ConfusionPanel] = [], deltas: [DeltaRow] = [], worstRows: RowTable = RowTable(title: "", columns: [], rows: []),
        notes: [String] = []
    ) {
        self.title = title
        self.subtitle = subtitle
        self.runs = runs
        self.summary = summary
        self.curves = curves
        self.confusions = confusions
        self.deltas = deltas
        self.worstRows = worstRows
        self.notes = notes
    }
}

/// One metric across the runs; nil (or a negative COCO "undefined") shows as a dash.
public struct SummaryRow: Sendable, Hashable {
    public var metric: String
    public var values: [Double?]
    public init(metric: String, values: [Double?]) {
        self.metric = metric
        self.values = values
    }
}

/// One chart of precision against recall, a series per run.
public struct CurvePanel: Sendable {
    public struct Series: Sendable {
        public var run: String
        /// (recall, precision) points in drawing order.
        public var points: [(Double, Double)]
        /// Shown in the legend (e.g. "AP 0.512").
        public var label: String
        public init(run: String, points: [(Double, Double)], label: String) {
            self.run = run
            self.points = points
            self.label = label
        }
    }

    public var title: String
    public var series: [Series]
    public init(title: String, series: [Series]) {
        self.title = title
        self.series = series
    }
}

/// One run's confusion matrix: `counts[truth][predicted]`.
public struct ConfusionPanel: Sendable, Hashable {
    public var run: String
    public var labels: [String]
    public var counts: [[Int]]
    public init(run: String, labels: [String], counts: [[Int]]) {
        self.run = run
        self.labels = labels
        self.counts = counts
    }
}

/// A metric's difference between two runs with its interval.
public struct DeltaRow: Sendable, Hashable {
    public var metric: String
    public var baseline: String
    public var run: String
    public var baselineValue: Double
    public var runValue: Double
    public var delta: Double
    /// The interval, when one was computed.
    public var lower: Double?
    public var upper: Double?
    /// Anything else worth a column (a test's p-value, the agreement).
    public var note: String
    public init(metric: String, baseline: String, run: String, baselineValue: Double, runValue: Double, delta: Double,
                lower: Double?, upper: Double?, note: String = "") {
        self.metric = metric
        self.baseline = baseline
        self.run = run
        self.baselineValue = baselineValue
        self.runValue = runValue
        self.delta = delta
        self.lower = lower
        self.upper = upper
        self.note = note
    }
}

/// A plain table of text cells (the worst rows).
public struct RowTable: Sendable, Hashable {
    public var title: String
    public var columns: [String]
    public var rows: [[String]]
    public init(title: String, columns: [String], rows: [[String]]) {
        self.title = title
        self.columns = columns
        self.rows = rows
    }
}
