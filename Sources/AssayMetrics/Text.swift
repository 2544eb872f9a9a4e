/// Text metrics: exact match and token F1 as the SQuAD evaluation script computes them, and word and
/// character error rates as `jiwer.wer` and `jiwer.cer` compute them with their default transforms.
///
/// Characters are Unicode scalars (Python code points), and whitespace is what Python's `str.isspace`
/// calls whitespace, so results match the Python tools on non-ASCII text.
public enum Text {
    /// Whether the two strings are the same sequence of code points, with no normalisation.
    public static func exactMatch(_ prediction: String, _ reference: String) -> Bool {
        prediction.unicodeScalars.elementsEqual(reference.unicodeScalars)
    }

    /// Whether the two strings are equal after ``squadNormalized(_:)``.
    public static func normalizedExactMatch(_ prediction: String, _ reference: String) -> Bool {
        exactMatch(squadNormalized(prediction), squadNormalized(reference))
    }

    /// SQuAD's `normalize_answer`: lowercase, drop ASCII punctuation, drop the articles a/an/the,
    /// collapse whitespace to single spaces.
    public static func squadNormalized(_ text: String) -> String {
        let lowered = pythonLowercased(text).filter { !asciiPunctuation.contains($0) }
        return splitOnWhitespace(removingArticles(Array(lowered))).joined(separator: " ")
    }

    /// SQuAD token F1 over normalised tokens, counting tokens as a multiset. When either side has no
    /// tokens, the score is 1 if both are empty and 0 otherwise (the SQuAD 2.0 script's rule).
    public static func tokenF1(_ prediction: String, _ reference: String) -> Double {
        let predicted = scalarWords(Array(squadNormalized(prediction).unicodeScalars))
        let expected = scalarWords(Array(squadNormalized(reference).unicodeScalars))
        if predicted.isEmpty || expected.isEmpty {
            return predicted.isEmpty && expected.isEmpty ? 1 : 0
        }
        var remaining = [[Unicode.Scalar]: Int]()
        for token in expected { remaining[token, default: 0] += 1 }
        var common = 0
        for token in predicted where remaining[token, default: 0] > 0 {
            remaining[token]! -= 1
            common += 1
        }
        if common == 0 { return 0 }
        let precision = Double(common) / Double(predicted.count)
        let recall = Double(common) / Double(expected.count)
        return 2 * precision * recall / (precision + recall)
    }

    /// `jiwer.wer(reference, hypothesis)` for one pair.
    public static func wordErrorRate(reference: String, hypothesis: String) -> Double {
        wordErrorRate(references: [reference], hypotheses: [hypothesis])
    }

    /// `jiwer.wer(references, hypotheses)`: word edits summed over all pairs, divided by the total
    /// number of reference words. When there are no reference words at all, jiwer returns the number
    /// of inserted words.
    ///
    /// - Precondition: both arrays have the same length.
    public static func wordErrorRate(references: [String], hypotheses: [String]) -> Double {
        errorRate(references.map(jiwerWords), hypotheses.map(jiwerWords))
    }

    /// `jiwer.cer(reference, hypothesis)` for one pair.
    public static func characterErrorRate(reference: String, hypothesis: String) -> Double {
        characterErrorRate(references: [reference], hypotheses: [hypothesis])
    }

    /// `jiwer.cer(references, hypotheses)`: each string is stripped of leading and trailing whitespace,
    /// then every code point (spaces included) is a token; edits are summed as for ``wordErrorRate(references:hypotheses:)``.
    public static func characterErrorRate(references: [String], hypotheses: [String]) -> Double {
        errorRate(references.map(jiwerCharacters), hypotheses.map(jiwerCharacters))
    }

    /// The Levenshtein distance (unit-cost insertions, deletions and substitutions) between two sequences.
    public static func levenshtein<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

// MARK: - Machinery

extension Text {
    /// Tokens compare by code point, as in Python (`String`'s `==` would equate "é" and "e\u{301}").
    static func errorRate<Token: Equatable>(_ references: [[Token]], _ hypotheses: [[Token]]) -> Double {
        precondition(references.count == hypotheses.count, "references and hypotheses must pair up")
        let edits = zip(references, hypotheses).reduce(0) { $0 + levenshtein($1.0, $1.1) }
        let referenceLength = references.reduce(0) { $0 + $1.count }
        if referenceLength == 0 {
            // Every reference is empty, so every edit is an insertion.
            return Double(edits)
        }
        return Double(edits) / Double(referenceLength)
    }

    /// jiwer's `wer_default`: `RemoveMultipleSpaces` (a run of two or more whitespace characters becomes
    /// one space), `Strip`, then split on single spaces, dropping empty words.
    static func jiwerWords(_ sentence: String) -> [[Unicode.Scalar]] {
        var reduced = String.UnicodeScalarView()
        var run = [Unicode.Scalar]()
        func flush() {
            if run.count >= 2 { reduced.append(" ") } else { reduced.append(contentsOf: run) }
            run.removeAll()
        }
        for scalar in sentence.unicodeScalars {
            if isPythonWhitespace(scalar) { run.append(scalar) } else { flush(); reduced.append(scalar) }
        }
        flush()
        return pythonStripped(Array(reduced))
            .split(separator: " ", omittingEmptySubsequences: true)
            .map(Array.init)
    }

    /// jiwer's `cer_default`: `Strip`, then one token per code point.
    static func jiwerCharacters(_ sentence: String) -> [Unicode.Scalar] {
        Array(pythonStripped(Array(sentence.unicodeScalars)))
    }

    static func pythonStripped(_ scalars: [Unicode.Scalar]) -> ArraySlice<Unicode.Scalar> {
        guard let first = scalars.firstIndex(where: { !isPythonWhitespace($0) }),
              let last = scalars.lastIndex(where: { !isPythonWhitespace($0) }) else { return [] }
        return scalars[first...last]
    }

    /// Python's `str.split()` with no separator: runs of whitespace separate, no empty pieces.
    static func splitOnWhitespace(_ scalars: [Unicode.Scalar]) -> [String] {
        scalarWords(scalars).map { String(String.UnicodeScalarView($0)) }
    }

    static func scalarWords(_ scalars: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        scalars.split(whereSeparator: isPythonWhitespace).map(Array.init)
    }

    /// `re.sub(r"\b(a|an|the)\b", " ", text)` with Python's Unicode `\w`.
    static func removingArticles(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var result = [Unicode.Scalar]()
        var i = 0
        while i < scalars.count {
            let atBoundary = i == 0 || !isPythonWordCharacter(scalars[i - 1])
            if atBoundary, let length = articleLength(scalars, at: i) {
                result.append(" ")
                i += length
            } else {
                result.append(scalars[i])
                i += 1
            }
        }
        return result
    }

    static func articleLength(_ scalars: [Unicode.Scalar], at start: Int) -> Int? {
        for article in ["a", "an", "the"] {
            let word = Array(article.unicodeScalars)
            let end = start + word.count
            guard end <= scalars.count, Array(scalars[start..<end]) == word else { continue }
            if end == scalars.count || !isPythonWordCharacter(scalars[end]) { return word.count }
        }
        return nil
    }

    /// Python's `str.lower()`: each code point's full lowercase mapping, with capital sigma becoming
    /// final sigma (ς) at the end of a word, as Python's Final_Sigma rule decides.
    static func pythonLowercased(_ text: String) -> [Unicode.Scalar] {
        let scalars = Array(text.unicodeScalars)
        var result = [Unicode.Scalar]()
        for (i, scalar) in scalars.enumerated() {
            if scalar == "\u{03A3}" {
                result.append(isFinalSigma(scalars, at: i) ? "\u{03C2}" : "\u{03C3}")
            } else {
                result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return result
    }

    static func isFinalSigma(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
        let before = scalars[..<index].last(where: { !$0.properties.isCaseIgnorable })
        guard let before, before.properties.isCased else { return false }
        let after = scalars[(index + 1)...].first(where: { !$0.properties.isCaseIgnorable })
        return after.map { !$0.properties.isCased } ?? true
    }

    static let asciiPunctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)

    /// Python's `str.isspace` for one code point (also what `re`'s `\s` matches).
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            true
        default:
            false
        }
    }

    /// Python's `re` `\w` for a `str` pattern: letters, numbers (any numeric type) and underscore.
    static func isPythonWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "_" { return true }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return scalar.properties.numericType != nil
        }
    }
}
