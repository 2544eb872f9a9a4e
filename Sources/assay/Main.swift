#if canImport(Glibc)
import Glibc
#endif
import AssayRPC

/// `assay`: the server (`assay serve`) and the client subcommands.
@main
struct AssayMain {
    static let usage = """
        usage: assay <command> [options]

        server:
          serve      [--addr HOST:PORT] [--data DIR] [--max-connections N] [--log-level debug|info|warning|error]
                     [--log-format text|json] [--metrics-addr HOST:PORT]   Prometheus metrics at http://HOST:PORT/metrics
                     [--check]   look at the settings, the data and the database, then exit
                     [--postgres URL] [--postgres-pool N] [--run-lease SECONDS]
                     [--services catalog,run,billing,compare,review,worker,preference]   host only these (docs/operations.md)
                     [--worker-batch-timeout SECONDS]   a worker's batch moves on after this (default 600, 0: never)
                     [--models-config FILE]   more chat models: OpenAI-compatible endpoints (docs/models.md)
                     [--max-buffered-mib N]   received bytes held for all connections (default 1024, 0: no limit)
                     [--request-rate N] [--request-burst N]   calls per second per organisation (default: no limit)
                     [--max-active-runs N]   queued and running runs per organisation (default 0: no quota)
                     [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]   TLS; with a client CA, mutual TLS
                     [--tls-reload-interval SECONDS]   look for new certificate files (default 5; SIGHUP reloads too)
                     listen (default 127.0.0.1:7400 or $ASSAY_ADDR) with data in DIR (default ./assay-data or $ASSAY_DATA)

        client (all take --addr, default $ASSAY_ADDR or 127.0.0.1:7400; --api-key, default
        $ASSAY_API_KEY or the server's <data>/admin.key when local (--data, default ./assay-data); --json;
        TLS: --tls-ca FILE or --tls (the system's CAs), [--tls-cert FILE --tls-key FILE] [--tls-server-name NAME]):
          health     [--service NAME]   the serving status; exit status 0 only when SERVING
          services                      the services and methods the server offers
          stats                         per-method call counts and latency
          ping                          one protocol round trip
          dataset    create NAME [--description TEXT] | list
          ingest     DATASET PATH [--batch N] [--quiet]   PATH: .jsonl, .csv or a folder (docs/catalog.md)
          ontology   create FILE.json | list
          labels     import DATASET ONTOLOGY FILE.jsonl
          export     DATASET [--content]   rows and labels as NDJSON on standard output
          keys       create NAME [--role admin|member|reviewer] | list | revoke KEY_ID
          models                        the model cards this server serves (docs/models.md)
          run        create|preview --model ID --ontology ID --map CLASS=FEATURE... [--param NAME=VALUE...]
                       (--dataset ID [--where KEY=VALUE...] | --row ID... | --key GLOBAL_KEY...) [--estimate ID] [--watch]
                     watch RUN | cancel RUN | list | rows RUN [--failed] | export RUN [--format ndjson|coco] [--out FILE]
                                                   (docs/runs.md)
          review     create | send | next | submit | status | export   a review queue in a terminal (docs/review.md)
          billing    plan | enable | disable | payment | budget | estimate | usage | charges | invoice   (docs/billing.md)
          compare    evaluate RUN | runs RUN RUN | rank RUN | cell RUN TRUTH PREDICTED   (docs/compare.md)
          pref       create | list | show | generate | judge | review | pairs | export | leaderboard
                                                   preference projects: pairs for RLHF/DPO (docs/preference.md)
          eval       PROJECT | --candidate NAME=MODEL... --dataset ID   [--reference-key KEY] [--judge MODEL --rubric TEXT] [--watch]
                                                   scores against reference answers: exact match, token F1, a rubric judge
          report     RUN [RUN ...] --out report.html [--feature ID] [--confidence C] [--iou T] [--seed N] [--resamples N]

        operations (on the server's machine; docs/operations.md):
          backup     OUT.sqlite [--data DIR]   a consistent copy of the SQLite store, while the server runs

        offline (files, no server; docs/compare.md):
          metrics    detection --gt GT.json --pred PRED.json [--iou-type bbox] [--confidence C] [--iou T]
                     classification|text --gt GT.jsonl --pred PRED.jsonl        [--json]
          report     --gt GT --pred A [--pred B ...] --out report.html [--confidence C] [--iou T] [--seed N] [--resamples N]
          leaderboard --battles FILE.jsonl [--anchor MODEL] [--seed N] [--resamples N] [--json]
                     Bradley-Terry ratings (Elo scale) with bootstrap intervals (docs/preference.md)
        """

    static func main() async {
        var words = Array(CommandLine.arguments.dropFirst())
        guard let command = words.first else {
            printError(usage)
            exit(2)
        }
        words.removeFirst()
        do {
            var args = try Arguments(words)
            if args.flag("help") || command == "help" || command == "--help" {
                printOut(usage)
                exit(0)
            }
            let status: Int32
            switch command {
            case "serve": status = try await ServeCommand.run(&args)
            case "health": status = try await ClientCommands.health(&args)
            case "services": status = try await ClientCommands.services(&args)
            case "stats": status = try await ClientCommands.stats(&args)
            case "ping": status = try await ClientCommands.ping(&args)
            case "dataset": status = try await CatalogCommands.dataset(&args)
            case "ingest": status = try await CatalogCommands.ingest(&args)
            case "ontology": status = try await CatalogCommands.ontology(&args)
            case "labels": status = try await CatalogCommands.labels(&args)
            case "export": status = try await CatalogCommands.export(&args)
            case "keys": status = try await CatalogCommands.keys(&args)
            case "report" where !args.positional.isEmpty: status = try await CompareCommands.report(&args)
            case "compare": status = try await CompareCommands.run(&args)
            case "metrics", "report": status = try MetricsCommands.run(command, &args)
            case "billing": status = try await BillingCommands.run(&args)
            case "models": status = try await RunCommands.models(&args)
            case "run": status = try await RunCommands.run(&args)
            case "review": status = try await ReviewCommands.run(&args)
            case "pref": status = try await PreferenceCommands.run(&args)
            case "eval": status = try await PreferenceCommands.evaluate(&args)
            case "leaderboard": status = try await LeaderboardCommand.run(&args)
            case "backup": status = try OperationsCommands.backup(&args)
            default: throw UsageError("unknown command \(command)")
            }
            exit(status)
        } catch let error as UsageError {
            printError("assay: \(error)\n\n\(usage)")
            exit(2)
        } catch let error as RPCError {
            printError("assay: \(error)")
            exit(1)
        } catch {
            printError("assay: \(error)")
            exit(1)
        }
    }
}
