// assay-protogen DESCRIPTORS OUT_DIR
//
// Reads the FileDescriptorSet protoc-c writes (`protoc-c -o descriptors.pb --include_imports`)
// and writes the Swift side of every message, enum and service of the assay packages into
// OUT_DIR: one `<name>.pb.swift` per .proto plus `AssayContract.pb.swift`. The output depends
// only on the descriptors, so regenerating and diffing shows a stale checked-in file.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

func fail(_ message: String) -> Never {
    let line = Array("assay-protogen: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

func readFile(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { fail("cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count == 0 { break }
        bytes.append(contentsOf: chunk[..<count])
    }
    guard ferror(file) == 0 else { fail("cannot read \(path)") }
    return bytes
}

func writeFile(_ path: String, _ contents: String) {
    guard let file = fopen(path, "wb") else { fail("cannot create \(path): \(String(cString: strerror(errno)))") }
    defer { fclose(file) }
    let bytes = Array(contents.utf8)
    guard fwrite(bytes, 1, bytes.count, file) == bytes.count else { fail("cannot write \(path)") }
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    fail("usage: assay-protogen DESCRIPTORS OUT_DIR")
}

do {
    let descriptors = try FileDescriptor.decodeSet(readFile(arguments[1]))
    let schema = try SchemaBuilder(descriptors)
    for output in try FileGenerator(schema: schema).generate() {
        writeFile(arguments[2] + "/" + output.name, output.contents)
    }
} catch let error as WireReader.Failure {
    fail(error.description)
} catch let error as GenerationError {
    fail(error.description)
} catch {
    fail("\(error)")
}
