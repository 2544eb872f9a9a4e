/// A COCO ground-truth file (`images`, `annotations`, `categories`) read for box evaluation.
public struct COCODataset: Sendable {
    /// Image ids in file order (the evaluation sorts them).
    public var imageIDs: [Int]
    /// Category ids and names in file order.
    public var categories: [(id: Int, name: String)]
    public var truth: [COCOGroundTruth]

    /// The category's name, or its id as text.
    public func name(ofCategory id: Int) -> String {
        categories.first { $0.id == id }?.name ?? String(id)
    }
}

/// Reads COCO files with the checks pycocotools makes (and some it leaves to a stack trace),
/// each failure naming the file, the line and the field.
public enum COCOFiles {
    /// Parses a ground-truth file. A missing `area` falls back to the box's width × height (COCO
    /// files always have it; pycocotools would fail); a missing `iscrowd` means not a crowd.
    public static func dataset(_ bytes: [UInt8], file: String) throws(InputError) -> COCODataset {
        let root = try JSONParser.parse(bytes, file: file)
        guard case .object(let top) = root else {
            throw InputError(file: file, line: 1, "expected an object with images, annotations and categories, found \(root.kind)")
        }
        let images = try array(top, "images", file: file)
        let annotations = try array(top, "annotations", file: file)
        let categoryValues = try array(top, "categories", file: file)
        var imageIDs: [Int] = []
        imageIDs.reserveCapacity(images.count)
        var seenImages = Set<Int>()
        for (i, value) in images.enumerated() {
            let o = try object(value, "images[\(i)]", file: file, line: top.line)
            let id = try integer(o, "id", "images[\(i)]", file: file)
            guard seenImages.insert(id).inserted else { throw InputError(file: file, line: o.line, "images[\(i)]: duplicate image id \(id)") }
            imageIDs.append(id)
        }
        var categories: [(id: Int, name: String)] = []
        var seenCategories = Set<Int>()
        for (i, value) in categoryValues.enumerated() {
            let o = try object(value, "categories[\(i)]", file: file, line: top.line)
            let id = try integer(o, "id", "categories[\(i)]", file: file)
            guard seenCategories.insert(id).inserted else {
                throw InputError(file: file, line: o.line, "categories[\(i)]: duplicate category id \(id)")
            }
            var name = String(id)
            if case .string(let s)? = o["name"] { name = s }
            categories.append((id, name))
        }
        var truth: [COCOGroundTruth] = []
        truth.reserveCapacity(annotations.count)
        var seenAnnotations = Set<Int>()
        for (i, value) in annotations.enumerated() {
            let path = "annotations[\(i)]"
            let o = try object(value, path, file: file, line: top.line)
            let id = try integer(o, "id", path, file: file)
            guard id > 0 else { throw InputError(file: file, line: o.line, "\(path): id must be positive (COCO treats 0 as unmatched), got \(id)") }
            guard seenAnnotations.insert(id).inserted else { throw InputError(file: file, line: o.line, "\(path): duplicate annotation id \(id)") }
            let image = try integer(o, "image_id", path, file: file)
            guard seenImages.contains(image) else {
                throw InputError(file: file, line: o.line, "\(path): image_id \(image) is not in images")
            }
            let category = try integer(o, "category_id", path, file: file)
            guard seenCategories.contains(category) else {
                throw InputError(file: file, line: o.line, "\(path): category_id \(category) is not in categories")
            }
            let box = try bbox(o, path, file: file)
            var area = box.area
            if let a = o["area"] {
                guard case .number(let v) = a, v >= 0 else {
                    throw InputError(file: file, line: o.line, "\(path): area must be a non-negative number, found \(a.kind)")
                }
                area = v
            }
            var crowd = false
            switch o["iscrowd"] {
            case nil, .null?: break
            case .number(let v)?: crowd = v != 0
            case .bool(let b)?: crowd = b
            case let other?: throw InputError(file: file, line: o.line, "\(path): iscrowd must be 0 or 1, found \(other.kind)")
            }
            truth.append(COCOGroundTruth(id: id, imageID: image, categoryID: category, box: box, area: area, isCrowd: crowd))
        }
        return COCODataset(imageIDs: imageIDs, categories: categories, truth: truth)
    }

    /// Parses a results file (a list of `{image_id, category_id, bbox, score}`) against its
    /// ground truth: like pycocotools' `loadRes`, every image must be one of the dataset's;
    /// unlike it, an unknown category is an error rather than silently never evaluated.
    public static func detections(_ bytes: [UInt8], file: String, dataset: COCODataset) throws(InputError) -> [COCODetection] {
        let root = try JSONParser.parse(bytes, file: file)
        guard case .array(let items, _) = root else {
            throw InputError(file: file, line: 1, "expected a list of detections (a COCO results file), found \(root.kind)")
        }
        let images = Set(dataset.imageIDs), categories = Set(dataset.categories.map(\.id))
        var out: [COCODetection] = []
        out.reserveCapacity(items.count)
        for (i, value) in items.enumerated() {
            let path = "detection \(i)"
            let o = try object(value, path, file: file, line: 1)
            let image = try integer(o, "image_id", path, file: file)
            guard images.contains(image) else {
                throw InputError(file: file, line: o.line, "\(path): image_id \(image) is not an image of the ground truth")
            }
            let category = try integer(o, "category_id", path, file: file)
            guard categories.contains(category) else {
                throw InputError(file: file, line: o.line, "\(path): category_id \(category) is not a category of the ground truth")
            }
            let box = try bbox(o, path, file: file)
            guard case .number(let score)? = o["score"], score.isFinite else {
                throw InputError(file: file, line: o.line, "\(path): score must be a number\(o["score"].map { ", found \($0.kind)" } ?? " (missing)")")
            }
            out.append(COCODetection(imageID: image, categoryID: category, box: box, score: score))
        }
        return out
    }

    static func array(_ o: JSONObject, _ key: String, file: String) throws(InputError) -> [JSONValue] {
        guard let v = o[key] else { throw InputError(file: file, line: o.line, "missing \"\(key)\"") }
        guard case .array(let items, _) = v else { throw InputError(file: file, line: o.line, "\"\(key)\" must be a list, found \(v.kind)") }
        return items
    }

    static func object(_ v: JSONValue, _ path: String, file: String, line: Int) throws(InputError) -> JSONObject {
        switch v {
        case .object(let o): return o
        case .array(_, let l): throw InputError(file: file, line: l, "\(path): expected an object, found an array")
        default: throw InputError(file: file, line: line, "\(path): expected an object, found \(v.kind)")
        }
    }

    static func integer(_ o: JSONObject, _ key: String, _ path: String, file: String) throws(InputError) -> Int {
        guard let v = o[key] else { throw InputError(file: file, line: o.line, "\(path): missing \"\(key)\"") }
        guard case .number(let d) = v, d == d.rounded(), abs(d) < 9e15 else {
            throw InputError(file: file, line: o.line, "\(path): \(key) must be an integer, found \(v.kind)")
        }
        return Int(d)
    }

    static func bbox(_ o: JSONObject, _ path: String, file: String) throws(InputError) -> Box {
        guard let v = o["bbox"] else { throw InputError(file: file, line: o.line, "\(path): missing \"bbox\"") }
        guard case .array(let items, _) = v, items.count == 4 else {
            throw InputError(file: file, line: o.line, "\(path): bbox must be [x, y, width, height], found \(v.kind)")
        }
        var n: [Double] = []
        for item in items {
            guard case .number(let d) = item, d.isFinite else {
                throw InputError(file: file, line: o.line, "\(path): bbox must hold 4 numbers, found \(item.kind)")
            }
            n.append(d)
        }
        guard n[2] >= 0, n[3] >= 0 else {
            throw InputError(file: file, line: o.line, "\(path): bbox width and height must not be negative")
        }
        return Box(x: n[0], y: n[1], width: n[2], height: n[3])
    }
}
