#if canImport(Glibc)
import Glibc
#endif
import AssayCore
import AssayRPC
import AssayWire

/// `assay billing plan|enable|disable|payment|budget|estimate|usage|charges|invoice`: an
/// organisation's billing from the command line. Amounts are printed and read as decimal
/// dollars, converted to and from micro-dollars with integer arithmetic only.
enum BillingCommands {
    static let usage = """
        usage: assay billing plan [set educational|free|starter|pro|enterprise] [--org ORG]
               assay billing enable [--accept-terms VERSION] [--org ORG]   (without the flag: prints the terms)
               assay billing disable [--org ORG]
               assay billing payment set REFERENCE [--hint TEXT] | payment remove
               assay billing budget set AMOUNT [--dataset DATASET] | budget remove [--dataset DATASET]
               assay billing estimate MODEL (--rows N | --dataset DATASET) [--images N] [--tokens N]
               assay billing usage [--by day|model|dataset|kind] [--cycle YYYY-MM]
               assay billing charges [--cycle YYYY-MM]
               assay billing invoice list | close [YYYY-MM] | export YYYY-MM [--format json|csv] [--out FILE]   (--org ORG)
        """

    static func run(_ args: inout Arguments) async throws -> Int32 {
        let json = args.flag("json")
        let org = args.option("org") ?? ""
        let acceptTerms = args.option("accept-terms")
        let hint = args.option("hint") ?? ""
        let datasetText = args.option("dataset")
        let rowsText = args.option("rows")
        let imagesText = args.option("images")
        let tokensText = args.option("tokens")
        let by = args.option("by") ?? "kind"
        let cycleText = args.option("cycle")
        let format = args.option("format")
        let out = args.option("out")
        let client = try await ClientCommands.connect(&args)
        defer { client.close() }
        try args.checkAllUsed()
        let words = args.positional
        switch words.first {
        case "plan":
            let account: Account
            if words.count == 3 && words[1] == "set" {
                guard let plan = Plan(protoName: "PLAN_" + words[2].uppercased()), plan != .unspecified else {
                    throw UsageError("the plans are educational, free, starter, pro and enterprise")
                }
                account = try await client.unary(BillingService.setPlan, SetPlanRequest(organizationId: org, plan: plan))
            } else if words.count == 1 {
                account = try await client.unary(BillingService.getAccount, GetAccountRequest(organizationId: org))
            } else {
                throw UsageError(usage)
            }
            printOut(json ? account.jsonString(pretty: true) : describe(account))
        case "enable", "disable":
            guard words.count == 1 else { throw UsageError(usage) }
            if words[0] == "enable", acceptTerms == nil {
                let account = try await client.unary(BillingService.getAccount, GetAccountRequest(organizationId: org))
                if account.plan.rawValue != Plan.enterprise.rawValue {
                    let terms = try await client.unary(BillingService.getTerms, GetTermsRequest())
                    printOut(terms.text)
                    printError("enabling the add-on accepts these terms: run again with --accept-terms \(terms.version)")
                    return 1
                }
            }
            let account = try await client.unary(
                BillingService.enableAddon,
                EnableAddonRequest(organizationId: org, acceptTermsVersion: acceptTerms ?? "", disable: words[0] == "disable"))
            printOut(json ? account.jsonString(pretty: true) : describe(account))
        case "payment":
            let request: SetPaymentMethodRequest
            if words.count == 3 && words[1] == "set" {
                request = SetPaymentMethodRequest(paymentMethod: AssayWire.PaymentMethod(reference: words[2], displayHint: hint))
            } else if words.count == 2 && words[1] == "remove" {
                request = SetPaymentMethodRequest()
            } else {
                throw UsageError(usage)
            }
            let account = try await client.unary(BillingService.setPaymentMethod, request)
            printOut(json ? account.jsonString(pretty: true) : describe(account))
        case "budget":
            var limit: Int64 = 0
            if words.count == 3 && words[1] == "set" {
                guard let amount = Money.parse(words[2]), amount > 0 else {
                    throw UsageError("a budget is a positive dollar amount with at most six decimals, such as 250 or 12.50")
                }
                limit = amount
            } else if !(words.count == 2 && words[1] == "remove") {
                throw UsageError(usage)
            }
            var datasetID = ""
            if let datasetText { datasetID = try await CatalogCommands.resolveDataset(datasetText, client).id }
            let account = try await client.unary(BillingService.setBudget, SetBudgetRequest(datasetId: datasetID, limitMicrodollars: limit))
            printOut(json ? account.jsonString(pretty: true) : describe(account))
        case "estimate":
            guard words.count == 2 else { throw UsageError(usage) }
            func count(_ text: String?, _ name: String) throws(UsageError) -> UInt64 {
                guard let text else { return 0 }
                guard let n = UInt64(text) else { throw UsageError("--\(name) needs a whole number") }
                return n
            }
            var request = EstimateRequest(
                modelId: words[1], rowCount: try count(rowsText, "rows"), imageCount: try count(imagesText, "images"),
                tokens: try count(tokensText, "tokens"))
            if let datasetText { request.datasetId = try await CatalogCommands.resolveDataset(datasetText, client).id }
            guard request.rowCount > 0 || !request.datasetId.isEmpty else { throw UsageError("give --rows N or --dataset DATASET") }
            let e = try await client.unary(BillingService.estimate, request)
            if json {
                printOut(e.jsonString(pretty: true))
            } else {
                printOut("estimate \(e.id) (confirm it when starting the run; expires \(BillingCycle.day(of: e.expiresAtMicros)) \(time(of: e.expiresAtMicros)) UTC)")
                printOut("  model units     \(e.modelUnits) x $\(Money.format(e.unitMicrodollars)) = $\(Money.format(e.modelUnits * e.unitMicrodollars))")
                printOut("  inference fee   $\(Money.format(e.inferenceMicrodollars)) (charged when the run ends)")
                printOut("  total           $\(Money.format(e.totalMicrodollars))")
                printOut("assumptions:")
                for a in e.assumptions { printOut("  - \(a)") }
                if !e.runBlockers.isEmpty { printOut("a run would be refused now: \(e.runBlockers.joined(separator: ", "))") }
            }
        case "usage":
            guard words.count == 1 else { throw UsageError(usage) }
            let grouping: UsageGrouping =
                switch by {
                case "day": .byDay
                case "model": .byModel
                case "dataset": .byDataset
                case "kind": .byKind
                default: throw UsageError("--by is day, model, dataset or kind")
                }
            var request = GetUsageRequest(groupBy: grouping)
            if let cycleText {
                guard let cycle = BillingCycle(cycleText) else { throw UsageError("--cycle is YYYY-MM") }
                request.fromMicros = cycle.start
                request.toMicros = cycle.end
            }
            let report = try await client.unary(BillingService.getUsage, request)
            if json {
                printOut(report.jsonString(pretty: true))
            } else {
                printOut(pad("group", 36) + pad("kind", 11) + pad("quantity", 12) + pad("units", 10) + "amount")
                for r in report.rows {
                    printOut(
                        pad(r.group.isEmpty ? "-" : r.group, 36) + pad(kindName(r.kind), 11) + pad(String(r.quantity), 12)
                            + pad(String(r.units), 10) + "$" + Money.format(r.microdollars))
                }
                printOut("total: \(report.totalUnits) units, $\(Money.format(report.totalMicrodollars))")
                printOut("catalog units accrued this cycle (invoiced when it closes): \(report.catalogUnitsAccrued)")
            }
        case "charges":
            guard words.count == 1 else { throw UsageError(usage) }
            let list = try await client.unary(BillingService.listCharges, ListChargesRequest(cycle: cycleText ?? ""))
            if json { printOut(list.jsonString(pretty: true)) }
            for c in list.charges where !json {
                printOut("\(c.cycle)  \(pad(kindName(c.kind), 10)) \(pad(String(c.units), 8)) $\(pad(Money.format(c.microdollars), 12)) \(c.key)")
            }
        case "invoice":
            switch (words.count, words.count > 1 ? words[1] : "") {
            case (2, "list"):
                let list = try await client.unary(BillingService.listInvoices, ListInvoicesRequest(organizationId: org))
                if json { printOut(list.jsonString(pretty: true)) }
                for i in list.invoices where !json {
                    printOut("\(i.cycle)  \(i.id)  \(i.totalUnits) units  $\(Money.format(i.totalMicrodollars))")
                }
            case (2, "close"), (3, "close"):
                let invoice = try await client.unary(BillingService.closeCycle, CloseCycleRequest(organizationId: org, cycle: words.count == 3 ? words[2] : ""))
                printOut(json ? invoice.jsonString(pretty: true) : "\(invoice.cycle)  \(invoice.id)  \(invoice.totalUnits) units  $\(invoice.total)")
            case (3, "export"):
                let fileFormat: InvoiceFormat =
                    switch format ?? "json" {
                    case "json": .json
                    case "csv": .csv
                    default: throw UsageError("--format is json or csv")
                    }
                let file = try await client.unary(
                    BillingService.exportInvoice, ExportInvoiceRequest(organizationId: org, cycle: words[2], format: fileFormat))
                let path = out ?? file.fileName
                try writeWholeFile(path, file.content)
                printOut("wrote \(path)")
            default:
                throw UsageError(usage)
            }
        default:
            throw UsageError(usage)
        }
        return 0
    }

    static func describe(_ a: Account) -> String {
        var lines = [
            "organisation    \(a.organizationId)",
            "plan            \(planName(a.plan))",
            "add-on          \(a.addonEnabled ? "enabled" : "not enabled")"
                + (a.termsVersionAccepted.isEmpty ? "" : " (terms \(a.termsVersionAccepted) accepted; current \(a.currentTermsVersion))"),
            "payment method  \(a.paymentMethod.map { "\($0.displayHint.isEmpty ? $0.reference : $0.displayHint)" } ?? "none")",
            "budget          \(a.budgetMicrodollars == 0 ? "none" : "$" + Money.format(a.budgetMicrodollars) + " per cycle")",
        ]
        for b in a.datasetBudgets { lines.append("  dataset \(b.datasetId): $\(Money.format(b.limitMicrodollars)) per cycle") }
        if let p = a.prices {
            lines.append("unit price      $\(Money.format(p.unitMicrodollars)) (price book \(p.priceBookVersion))")
        }
        lines.append("runs            " + (a.runBlockers.isEmpty ? "allowed" : "refused: " + a.runBlockers.joined(separator: ", ")))
        return lines.joined(separator: "\n")
    }

    static func planName(_ p: Plan) -> String { (p.protoName ?? "?").replacing("PLAN_", with: "").lowercased() }

    static func kindName(_ k: AssayWire.ChargeKind) -> String {
        (k.protoName ?? "?").replacing("CHARGE_KIND_", with: "").lowercased()
    }

    static func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }

    static func time(of t: Int64) -> String {
        let secondsOfDay = ((t / 1_000_000) % 86_400 + 86_400) % 86_400
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(secondsOfDay / 3600)):\(two(secondsOfDay / 60 % 60))"
    }

    /// Writes `bytes` to `path` (created or truncated).
    static func writeWholeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FileError(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += n
        }
    }
}
