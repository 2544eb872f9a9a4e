/// Battle logs users already have: JSON Lines of
/// `{"model_a": "...", "model_b": "...", "winner": "model_a" | "model_b" | "tie"}` (other keys
/// are ignored; "tie (bothbad)", as Chatbot Arena writes it, is a tie).
public enum BattleFiles {
    public static func battles(_ bytes: [UInt8], file: String) throws(InputError) -> [Battle] {
        var out: [Battle] = []
        var lineNumber = 0
        var start = 0
        while start <= bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count && bytes[end] != 10 { end += 1 }
            defer { start = end + 1 }
            var slice = bytes[start..<end]
            if slice.last == 13 { slice = slice.dropLast() }
            if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                if end >= bytes.count { break }
                continue
            }
            let value = try JSONParser.parse(Array(slice), file: file, firstLine: lineNumber)
            guard case .object(let o) = value else { throw InputError(file: file, line: lineNumber, "expected an object, found \(value.kind)") }
            func name(_ key: String) throws(InputError) -> String {
                guard let v = o[key] else { throw InputError(file: file, line: lineNumber, "missing \"\(key)\"") }
                guard case .string(let s) = v, !s.isEmpty else {
                    throw InputError(file: file, line: lineNumber, "\(key) must be a non-empty string, found \(v.kind)")
                }
                return s
            }
            let a = try name("model_a"), b = try name("model_b"), w = try name("winner")
            guard a != b else { throw InputError(file: file, line: lineNumber, "model_a and model_b are both \(a)") }
            let winner: BattleOutcome
            switch w {
            case "model_a": winner = .modelA
            case "model_b": winner = .modelB
            case "tie", "tie (bothbad)": winner = .tie
            default: throw InputError(file: file, line: lineNumber, "winner must be \"model_a\", \"model_b\" or \"tie\", found \"\(w)\"")
            }
            out.append(Battle(modelA: a, modelB: b, winner: winner))
        }
        guard !out.isEmpty else { throw InputError(file: file, line: nil, "no battles") }
        return out
    }
}
