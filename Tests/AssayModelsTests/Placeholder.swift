@testable import AssayModels
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct Scratch {
    @Test func scratch() throws {
        let png = try renderTextPNG("The quick brown fox\njumps over the lazy dog 42")
        let f = fopen("/tmp/models-render.png", "wb"); fwrite(png, 1, png.count, f); fclose(f)
        let e = try TesseractEngine()
        var t0 = timespec(); clock_gettime(CLOCK_MONOTONIC, &t0)
        var page: OCRPage? = nil
        for _ in 0..<10 { page = try e.recognize(png) }
        var t1 = timespec(); clock_gettime(CLOCK_MONOTONIC, &t1)
        print("ms per image:", Double(t1.tv_sec - t0.tv_sec) * 100 + Double(t1.tv_nsec - t0.tv_nsec) / 1e7)
        print(page!.text, page!.words, page!.meanConfidence)
        let astro = try LocalFile.read("/var/cache/assay/samples-skimage-0.19.3-8/astronaut.png", limit: 1 << 30)
        let img = try GrayImage(encoded: astro)
        for name in ["haarcascade_frontalface_default", "haarcascade_frontalface_alt2", "haarcascade_eye"] {
            let d = try CascadeDetector(path: "/usr/share/opencv4/haarcascades/\(name).xml")
            print(name, try d.detect(in: img))
        }
    }
}
