import AssayFuzzing

#if canImport(Glibc)
    import Glibc
#endif

// The fuzz target of the frame decoder (`FrameDecoderFuzz` says what it checks).

/// libFuzzer's entry point: it calls this once per input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.run(FrameDecoderFuzz.check, data, size)
}

@main
enum Main {
    static func main() {
        #if ASSAY_FUZZ
            // `make fuzz`: built with -sanitize=fuzzer; libFuzzer takes the arguments.
            exit(FuzzDriver.runLibFuzzer(fuzz))
        #else
            // A plain build: replays the files and folders named as arguments.
            FuzzDriver.replay(FrameDecoderFuzz.check, arguments: Array(CommandLine.arguments.dropFirst()))
        #endif
    }
}
