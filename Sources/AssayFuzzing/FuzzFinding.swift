#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An input that broke an invariant a fuzz target checks: what should have held, with the
/// values that show it did not.
package struct FuzzFinding: Error, CustomStringConvertible {
    /// One line or a few: the invariant and what was seen instead.
    package var description: String

    /// A finding described by `description`.
    package init(_ description: String) { self.description = description }
}

/// A fuzz target: checks one input and throws when it breaks an invariant. Crashes (traps,
/// memory errors the sanitizer sees) are findings too, reported by the process itself.
package typealias FuzzCheck = (UnsafeRawBufferPointer) throws -> Void

/// What the executables do with a target: hand it libFuzzer's inputs, or replay files.
package enum FuzzDriver {
    /// libFuzzer's entry: a finding aborts, so libFuzzer saves the input as a crash.
    package static func run(_ check: FuzzCheck, _ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        do {
            try check(UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size))
        } catch {
            printError("fuzz finding: \(error)")
            abort()
        }
        return 0
    }

    /// Without libFuzzer: runs `check` on every file named in `arguments` (folders: every file in
    /// them), prints each finding, and exits with status 1 when there was one.
    package static func replay(_ check: FuzzCheck, arguments: [String]) -> Never {
        var files: [String] = []
        for path in arguments {
            if let names = directoryEntries(path) {
                files += names.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        var findings = 0
        for file in files {
            guard let bytes = readFile(file) else {
                printError("\(file): cannot read")
                findings += 1
                continue
            }
            do {
                try bytes.withUnsafeBytes { buffer throws in try check(buffer) }
            } catch {
                printError("\(file): \(error)")
                findings += 1
            }
        }
        print("replayed \(files.count) inputs, \(findings) findings")
        exit(findings == 0 ? 0 : 1)
    }

    /// Writes a line to standard error.
    static func printError(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// The names in a folder (no `.` or `..`), or nil when `path` is not a folder.
    package static func directoryEntries(_ path: String) -> [String]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The bytes of a file, or nil when it cannot be read.
    package static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n > 0 { bytes += chunk[0..<n] }
            if n < chunk.count { return ferror(file) == 0 ? bytes : nil }
        }
    }
}

#if ASSAY_FUZZ
    /// libFuzzer's driver for a program with a `main` of its own (LLVM 13 and later): SwiftPM
    /// names every executable's entry point, so the fuzz targets call the driver from theirs.
    /// (Declared by name: a C declaration would need a module just for it.)
    @_silgen_name("LLVMFuzzerRunDriver")
    func llvmFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    extension FuzzDriver {
        /// Hands the process to libFuzzer with `callback` as the target; returns its exit status.
        package static func runLibFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            return llvmFuzzerRunDriver(&argc, &argv, callback)
        }
    }
#endif
