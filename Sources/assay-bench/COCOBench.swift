#if canImport(Glibc)
import Glibc
#endif
import AssayMetrics
import AssayTransport
import Foundation

// The COCO section of `make bench` (issue 7): a COCO-scale detection evaluation (5,000 images,
// 80 classes, ~36,000 ground-truth boxes with crowd regions, 100,000 detections) generated
// deterministically into a temporary folder, evaluated by AssayMetrics and, in the same run, by
// pycocotools (scripts/bench/coco_reference.py) on the same files.

/// Writes the synthetic ground truth and detections; returns their paths.
func writeSyntheticCOCO(into folder: String, images: Int = 5000, categories: Int = 80, detections: Int = 100_000)
    -> (gt: String, pred: String, boxes: Int, crowds: Int)
{
    var rng = SplitMix64(seed: 0xC0C0_2017)
    func uniform() -> Double { Double(rng.next() >> 11) * 0x1.0p-53 }
    func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
    // Box areas log-uniform from 6² to 400² pixels (COCO: ~41% small, ~34% medium, ~24% large).
    func randomBox(width: Double, height: Double) -> [Double] {
        let side = exp(log(6.0) + uniform() * (log(400.0) - log(6.0)))
        let aspect = exp((uniform() - 0.5) * 1.4)
        let w = min(width - 1, max(1, side * aspect)), h = min(height - 1, max(1, side / aspect))
        return [round2(uniform() * (width - w)), round2(uniform() * (height - h)), round2(w), round2(h)]
    }
    var gt = "{\"info\": {\"description\": \"assay-bench synthetic COCO\"},\n\"images\": [\n"
    var anns: [String] = []
    var preds: [String] = []
    var truthBoxes: [(image: Int, category: Int, box: [Double])] = []
    var crowds = 0
    for i in 1...images {
        let (width, height) = uniform() < 0.7 ? (640.0, 480.0) : (480.0, 640.0)
        gt += "{\"id\": \(i), \"width\": \(Int(width)), \"height\": \(Int(height)), \"file_name\": \"\(i).jpg\"}"
        gt += i < images ? ",\n" : "\n"
        let objects = Int(uniform() * 15.4)  // mean ~7.2 per image (~36,000 boxes)
        for _ in 0..<objects {
            let category = 1 + Int(pow(uniform(), 1.6) * Double(categories))  // a long tail of rare classes
            let box = randomBox(width: width, height: height)
            let isCrowd = uniform() < 0.01
            if isCrowd { crowds += 1 }
            let area = round2(box[2] * box[3] * (0.55 + 0.35 * uniform()))  // a segmentation inside the box
            anns.append("{\"id\": \(anns.count + 1), \"image_id\": \(i), \"category_id\": \(min(category, categories)), \"bbox\": [\(box[0]), \(box[1]), \(box[2]), \(box[3])], \"area\": \(area), \"iscrowd\": \(isCrowd ? 1 : 0)}")
            truthBoxes.append((i, min(category, categories), box))
        }
    }
    // Detections: most objects found with jitter (some with the wrong class), the rest of the
    // budget false positives, scores rounded to 3 places so ties happen as in real results.
    for t in truthBoxes where preds.count < detections {
        let found = uniform() < 0.85
        if !found { continue }
        let b = t.box
        let jitter = 0.25 * uniform()
        let box = [round2(b[0] + (uniform() - 0.5) * jitter * b[2]), round2(b[1] + (uniform() - 0.5) * jitter * b[3]),
                   round2(max(1, b[2] * (1 + (uniform() - 0.5) * jitter))), round2(max(1, b[3] * (1 + (uniform() - 0.5) * jitter)))]
        let category = uniform() < 0.1 ? 1 + Int(uniform() * Double(categories)) : t.category
        // A found object scores in [0.3, 1.0], above most false positives (in [0, 0.8]).
        let score = ((0.3 + 0.7 * uniform()) * 1000).rounded() / 1000
        preds.append("{\"image_id\": \(t.image), \"category_id\": \(category), \"bbox\": [\(box[0]), \(box[1]), \(box[2]), \(box[3])], \"score\": \(score)}")
    }
    while preds.count < detections {
        let image = 1 + Int(uniform() * Double(images))
        let box = randomBox(width: 640, height: 480)
        let category = 1 + Int(pow(uniform(), 1.6) * Double(categories))
        let score = (uniform() * 0.8 * 1000).rounded() / 1000
        preds.append("{\"image_id\": \(image), \"category_id\": \(min(category, categories)), \"bbox\": [\(box[0]), \(box[1]), \(box[2]), \(box[3])], \"score\": \(score)}")
    }
    gt += "],\n\"annotations\": [\n" + anns.joined(separator: ",\n") + "\n],\n\"categories\": [\n"
    gt += (1...categories).map { "{\"id\": \($0), \"name\": \"class\($0)\", \"supercategory\": \"thing\"}" }.joined(separator: ",\n")
    gt += "\n]}\n"
    let gtPath = folder + "/instances_synthetic.json", predPath = folder + "/detections_synthetic.json"
    FileManager.default.createFile(atPath: gtPath, contents: Data(gt.utf8))
    FileManager.default.createFile(atPath: predPath, contents: Data(("[\n" + preds.joined(separator: ",\n") + "\n]\n").utf8))
    return (gtPath, predPath, anns.count, crowds)
}

func secondsSince(_ start: UInt64) -> Double { Double(MonotonicClock.nanoseconds() - start) / 1e9 }

/// Runs a command and returns its standard output (nil when it fails).
func capture(_ command: String) -> String? {
    guard let pipe = popen(command, "r") else { return nil }
    var out = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buffer, 1, buffer.count, pipe)
        if n <= 0 { break }
        out.append(contentsOf: buffer[0..<n])
    }
    return pclose(pipe) == 0 ? String(decoding: out, as: UTF8.self) : nil
}

func cocoBench(python: String, rounds: Int) throws {
    let folder = NSTemporaryDirectory() + "assay-coco-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let files = writeSyntheticCOCO(into: folder)
    say("COCO bbox evaluation: 5000 images, 80 classes, \(files.boxes) ground-truth boxes (\(files.crowds) crowd), 100000 detections")

    var loads: [Double] = [], evals: [Double] = [], serialEvals: [Double] = []
    var stats: [Double] = []
    for _ in 0..<rounds {
        let t0 = MonotonicClock.nanoseconds()
        let dataset = try COCOFiles.dataset(Array(FileManager.default.contents(atPath: files.gt)!), file: files.gt)
        let detections = try COCOFiles.detections(Array(FileManager.default.contents(atPath: files.pred)!), file: files.pred, dataset: dataset)
        loads.append(secondsSince(t0))
        let t1 = MonotonicClock.nanoseconds()
        let result = COCOEvaluation.evaluate(truth: dataset.truth, detections: detections,
                                             imageIDs: dataset.imageIDs, categoryIDs: dataset.categories.map(\.id))
        stats = result.stats
        evals.append(secondsSince(t1))
        let t2 = MonotonicClock.nanoseconds()
        _ = COCOEvaluation.evaluate(truth: dataset.truth, detections: detections, imageIDs: dataset.imageIDs,
                                    categoryIDs: dataset.categories.map(\.id), parallel: false).stats
        serialEvals.append(secondsSince(t2))
    }
    say(String(format: "  assay:       load %.3f s, evaluate+accumulate+summarize %.3f s (one thread: %.3f s), median of %d",
               median(loads), median(evals), median(serialEvals), rounds))
    guard let output = capture("'\(python)' scripts/bench/coco_reference.py '\(files.gt)' '\(files.pred)'"),
        let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
        let reference = json["stats"] as? [Double], let refLoad = json["load_seconds"] as? Double,
        let refEval = json["eval_seconds"] as? Double
    else {
        say("  pycocotools: could not run \(python) scripts/bench/coco_reference.py (make bench installs it)")
        exit(1)
    }
    say(String(format: "  pycocotools: load %.3f s, evaluate+accumulate+summarize %.3f s (one run, pycocotools %@)",
               refLoad, refEval, (json["pycocotools"] as? String) ?? "?"))
    let worst = zip(stats, reference).map { abs($0 - $1) }.max() ?? .infinity
    let agree = stats.count == 12 && reference.count == 12 && worst <= 1e-9
    let speedUp = refEval / median(evals)
    let overall = (refLoad + refEval) / (median(loads) + median(evals))
    say(String(format: "  speed-up: %.1fx on evaluation (pycocotools %.3f s / assay %.3f s), %.1fx including loading; all 12 numbers agree to 1e-9: %@ (largest difference %.3g)",
               speedUp, refEval, median(evals), overall, agree ? "yes" : "NO", worst))
    // The target (issue 7): at least 10 times pycocotools' evaluation, with equal results. A
    // miss is reported, not fatal; different results are (below).
    say(String(format: "  %@ COCO evaluation >= 10x pycocotools: %.1fx (%.1fx including loading), results %@",
               speedUp >= 10 && agree ? "PASS" : "MISS", speedUp, overall, agree ? "equal" : "DIFFERENT"))
    say("  AP " + stats.map { String(format: "%.4f", $0) }.joined(separator: " "))
    if !agree {
        say("  pycocotools " + reference.map { String(format: "%.4f", $0) }.joined(separator: " "))
        exit(1)
    }
}
