/// Renders a ``ReportDocument`` as one self-contained HTML page: inline CSS and SVG, no
/// scripts, no fonts or images fetched, so it opens offline and can be mailed as one file.
public enum HTMLReport {
    /// Series colours, one per run (colour-blind-safe Okabe–Ito order).
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000"]

    public static func render(_ document: ReportDocument) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(document.title))</title>
            <style>
            body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
            h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
            .sub{color:#666;margin:0 0 16px}table{border-collapse:collapse;margin:8px 0}
            th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
            th{background:#f5f5f5}.grid{display:flex;flex-wrap:wrap;gap:12px}
            figure{margin:0;border:1px solid #eee;padding:6px}figcaption{font-weight:600;font-size:13px}
            .pos{color:#1a7f37}.neg{color:#b42318}svg text{font:11px system-ui,sans-serif}
            </style></head><body>
            <h1>\(escape(document.title))</h1>
            <p class="sub">\(escape(document.subtitle))</p>

            """
        html += summary(document)
        if !document.curves.isEmpty {
            html += "<h2>Precision–recall curves</h2>\n<div class=\"grid\">\n"
            for panel in document.curves { html += curve(panel, runs: document.runs) }
            html += "</div>\n"
        }
        if !document.confusions.isEmpty {
            html += "<h2>Confusion matrix</h2>\n<div class=\"grid\">\n"
            for panel in document.confusions { html += confusion(panel) }
            html += "</div>\n"
        }
        if !document.deltas.isEmpty { html += deltas(document.deltas) }
        if !document.worstRows.rows.isEmpty { html += table(document.worstRows) }
        if !document.notes.isEmpty {
            html += "<h2>Notes</h2>\n<ul>\n" + document.notes.map { "<li>\(escape($0))</li>\n" }.joined() + "</ul>\n"
        }
        return html + "</body></html>\n"
    }

    // MARK: Sections

    static func summary(_ d: ReportDocument) -> String {
        guard !d.summary.isEmpty else { return "" }
        var s = "<h2>Summary</h2>\n<table><tr><th>metric</th>"
        s += d.runs.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for row in d.summary {
            s += "<tr><td>\(escape(row.metric))</td>"
            s += row.values.map { "<td>\(number($0))</td>" }.joined() + "</tr>\n"
        }
        return s + "</table>\n"
    }

    static func curve(_ panel: CurvePanel, runs: [String]) -> String {
        let w = 300.0, h = 230.0, left = 38.0, top = 10.0, plotW = 250.0, plotH = 170.0
        func x(_ v: Double) -> Double { left + max(0, min(1, v)) * plotW }
        func y(_ v: Double) -> Double { top + (1 - max(0, min(1, v))) * plotH }
        var s = "<figure><figcaption>\(escape(panel.title))</figcaption>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(w, 0))\" height=\"\(fmt(h, 0))\" viewBox=\"0 0 \(fmt(w, 0)) \(fmt(h, 0))\" role=\"img\" class=\"pr-curve\">\n"
        s += "<rect x=\"\(fmt(left, 1))\" y=\"\(fmt(top, 1))\" width=\"\(fmt(plotW, 1))\" height=\"\(fmt(plotH, 1))\" fill=\"#fafafa\" stroke=\"#999\"/>\n"
        for tick in stride(from: 0.0, through: 1.0001, by: 0.25) {
            s += "<line x1=\"\(fmt(x(tick), 1))\" y1=\"\(fmt(top, 1))\" x2=\"\(fmt(x(tick), 1))\" y2=\"\(fmt(top + plotH, 1))\" stroke=\"#e3e3e3\"/>"
            s += "<line x1=\"\(fmt(left, 1))\" y1=\"\(fmt(y(tick), 1))\" x2=\"\(fmt(left + plotW, 1))\" y2=\"\(fmt(y(tick), 1))\" stroke=\"#e3e3e3\"/>"
            s += "<text x=\"\(fmt(x(tick), 1))\" y=\"\(fmt(top + plotH + 13, 1))\" text-anchor=\"middle\">\(fmt(tick, 2))</text>"
            s += "<text x=\"\(fmt(left - 4, 1))\" y=\"\(fmt(y(tick) + 4, 1))\" text-anchor=\"end\">\(fmt(tick, 2))</text>\n"
        }
        s += "<text x=\"\(fmt(left + plotW / 2, 1))\" y=\"\(fmt(h - 20, 1))\" text-anchor=\"middle\">recall</text>\n"
        for (i, series) in panel.series.enumerated() {
            let color = palette[(runs.firstIndex(of: series.run) ?? i) % palette.count]
            if !series.points.isEmpty {
                let d = series.points.enumerated().map { n, p in "\(n == 0 ? "M" : "L")\(fmt(x(p.0), 2)) \(fmt(y(p.1), 2))" }
                s += "<path d=\"\(d.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"><title>\(escape(series.run))</title></path>\n"
            }
            let ly = h - 6.0, lx = left + Double(i) * 125
            s += "<rect x=\"\(fmt(lx, 1))\" y=\"\(fmt(ly - 8, 1))\" width=\"10\" height=\"8\" fill=\"\(color)\"/>"
            s += "<text x=\"\(fmt(lx + 13, 1))\" y=\"\(fmt(ly, 1))\">\(escape(series.run)): \(escape(series.label))</text>\n"
        }
        return s + "</svg></figure>\n"
    }

    static func confusion(_ panel: ConfusionPanel) -> String {
        let n = panel.labels.count
        let cell = n <= 12 ? 34.0 : max(6, 420 / Double(n))
        let labelSpace = 110.0, showNumbers = n <= 20
        let size = labelSpace + cell * Double(n) + 10
        let maxCount = max(1, panel.counts.flatMap { $0 }.max() ?? 1)
        var s = "<figure><figcaption>\(escape(panel.run)) (rows: truth, columns: predicted)</figcaption>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(size, 0))\" height=\"\(fmt(size, 0))\" viewBox=\"0 0 \(fmt(size, 0)) \(fmt(size, 0))\" role=\"img\" class=\"confusion\">\n"
        for (i, label) in panel.labels.enumerated() where showNumbers || n <= 40 {
            let c = labelSpace + (Double(i) + 0.5) * cell
            s += "<text x=\"\(fmt(labelSpace - 4, 1))\" y=\"\(fmt(c + 4, 1))\" text-anchor=\"end\">\(escape(short(label)))</text>"
            s += "<text transform=\"translate(\(fmt(c + 4, 1)) \(fmt(labelSpace - 4, 1))) rotate(-60)\">\(escape(short(label)))</text>\n"
        }
        for i in 0..<n {
            for j in 0..<n {
                let count = panel.counts[i][j]
                let intensity = count == 0 ? 0 : 0.12 + 0.88 * Double(count) / Double(maxCount)
                let fill = i == j ? "rgba(0,114,178,\(fmt(intensity, 3)))" : "rgba(213,94,0,\(fmt(intensity, 3)))"
                let px = labelSpace + Double(j) * cell, py = labelSpace + Double(i) * cell
                s += "<rect x=\"\(fmt(px, 1))\" y=\"\(fmt(py, 1))\" width=\"\(fmt(cell, 1))\" height=\"\(fmt(cell, 1))\" fill=\"\(fill)\" stroke=\"#ddd\"><title>\(escape(panel.labels[i])) → \(escape(panel.labels[j])): \(count)</title></rect>"
                if showNumbers && count > 0 {
                    s += "<text x=\"\(fmt(px + cell / 2, 1))\" y=\"\(fmt(py + cell / 2 + 4, 1))\" text-anchor=\"middle\">\(count)</text>"
                }
            }
            s += "\n"
        }
        return s + "</svg></figure>\n"
    }

    static func deltas(_ rows: [DeltaRow]) -> String {
        var s = "<h2>Run against run</h2>\n<table><tr><th>metric</th><th>baseline</th><th>run</th><th>baseline value</th><th>run value</th><th>delta</th><th>95% interval</th><th>interval</th><th>note</th></tr>\n"
        let bound = max(1e-9, rows.flatMap { [abs($0.delta), abs($0.lower ?? 0), abs($0.upper ?? 0)] }.max() ?? 1)
        for row in rows {
            let cls = row.delta > 0 ? "pos" : row.delta < 0 ? "neg" : ""
            let interval = row.lower.map { "[\(fmt($0, 4)), \(fmt(row.upper ?? $0, 4))]" } ?? "—"
            s += "<tr><td>\(escape(row.metric))</td><td>\(escape(row.baseline))</td><td>\(escape(row.run))</td>"
            s += "<td>\(number(row.baselineValue))</td><td>\(number(row.runValue))</td><td class=\"\(cls)\">\(signed(row.delta))</td><td>\(interval)</td>"
            s += "<td>\(intervalChart(row, bound: bound))</td><td>\(escape(row.note))</td></tr>\n"
        }
        return s + "</table>\n"
    }

    /// A small forest-plot cell: the zero line, the interval as a bar, the delta as a dot.
    static func intervalChart(_ row: DeltaRow, bound: Double) -> String {
        let w = 160.0, h = 18.0
        func x(_ v: Double) -> Double { w / 2 + v / bound * (w / 2 - 6) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(w, 0))\" height=\"\(fmt(h, 0))\" class=\"delta\">"
        s += "<line x1=\"\(fmt(w / 2, 1))\" y1=\"0\" x2=\"\(fmt(w / 2, 1))\" y2=\"\(fmt(h, 0))\" stroke=\"#999\"/>"
        if let lower = row.lower, let upper = row.upper {
            s += "<rect x=\"\(fmt(x(lower), 2))\" y=\"6\" width=\"\(fmt(max(1, x(upper) - x(lower)), 2))\" height=\"6\" fill=\"#9ecae1\"/>"
        }
        s += "<circle cx=\"\(fmt(x(row.delta), 2))\" cy=\"9\" r=\"3.5\" fill=\"#08519c\"/></svg>"
        return s
    }

    static func table(_ t: RowTable) -> String {
        var s = "<h2>\(escape(t.title))</h2>\n<table><tr>" + t.columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for row in t.rows { s += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n" }
        return s + "</table>\n"
    }

    // MARK: Text

    /// HTML-escapes text for element content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func short(_ label: String) -> String { label.count > 16 ? String(label.prefix(15)) + "…" : label }

    /// A metric value to 4 places; nil, NaN and COCO's -1 ("undefined") as a dash.
    static func number(_ value: Double?) -> String {
        guard let value, value.isFinite, value != -1 else { return "—" }
        return fmt(value, 4)
    }

    static func signed(_ value: Double) -> String { value > 0 ? "+" + fmt(value, 4) : fmt(value, 4) }

    /// `value` with exactly `places` decimals (no Foundation `String(format:)`).
    public static func fmt(_ value: Double, _ places: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf") }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let negative = value < 0 && scaled > 0
        guard scaled < 9e15 else { return String(value) }
        let whole = Int(scaled)
        let integer = whole / Int(scale), fraction = whole % Int(scale)
        var s = (negative ? "-" : "") + String(integer)
        if places > 0 {
            let digits = String(fraction)
            s += "." + String(repeating: "0", count: places - digits.count) + digits
        }
        return s
    }
}
