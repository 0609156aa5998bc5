import Foundation
import ShoalCluster
import ShoalTestSupport
import Testing

/// The coordinator's side of data over the wire, against real files.
struct TransferServerTests {
    private func roots() throws -> (TemporaryHome, URL, URL) {
        let home = try TemporaryHome()
        let objects = home.url.appendingPathComponent("objects")
        let staging = home.url.appendingPathComponent("staging")
        try FileManager.default.createDirectory(at: objects.appendingPathComponent("b"), withIntermediateDirectories: true)
        return (home, objects, staging)
    }

    private func objectCRC(_ chunks: [[UInt8]]) -> UInt32 {
        var crc = CRC32C()
        for chunk in chunks { crc.add(chunk: CRC32C.of(chunk)) }
        return crc.value
    }

    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.of(Array("123456789".utf8)) == 0xE306_9283)
        // Split anywhere, the running value is the same as in one go.
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var running = CRC32C()
        bytes[..<333].withUnsafeBytes { running.update($0) }
        bytes[333...].withUnsafeBytes { running.update($0) }
        #expect(running.value == CRC32C.of(bytes))
    }

    /// The hardware paths against a bit-at-a-time reference, at lengths and
    /// alignments on both sides of each block boundary: the folding of 256-byte
    /// blocks (from 1024 bytes, where the CPU has it) and the three crc32 streams
    /// (blocks of 3 × 8192 and 3 × 256 bytes, joined by shift tables) after it.
    @Test func crc32cAgreesWithABitwiseReferenceAtEveryBlockBoundary() {
        func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            return ~crc
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(3 * 8192 * 2 + 3 * 256 + 40)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for start in [0, 1, 5] {
            for length in [0, 7, 767, 768, 769, 1023, 1024, 1279, 1280, 1281, 1024 + 3 * 256 + 5, 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 3 * 256 + 9, bytes.count - start] {
                var crc = CRC32C()
                // Straight from the big array, so the start is unaligned where `start` is.
                bytes.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)])) }
                #expect(crc.value == reference(bytes[start..<(start + length)]), "length \(length) at offset \(start)")
            }
        }
    }

    @Test func servesAnObjectInChunksWithinCreditAndChecksumsIt() throws {
        let (home, objects, staging) = try roots()
        _ = home
        let bytes = (0..<(TransferLimits.chunkBytes * 2 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = objects.appendingPathComponent("b/big.bin").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let server = TransferServer(servedRoots: [objects], stagingRoot: staging)
        func serve(_ request: FetchRequest) -> [(ChunkHeader, DataFrame)] {
            var chunks: [(ChunkHeader, DataFrame)] = []
            server.serve(request) { chunks.append(($0, $1)) }
            return chunks
        }

        let first = serve(FetchRequest(transfer: "t", path: path, offset: 0, credit: 2))
        #expect(first.count == 2)
        #expect(first.allSatisfy { $0.0.error == nil && $0.0.objectSize == nil })
        #expect(first.allSatisfy { CRC32C.of($0.1.bytes) == $0.0.crc32 })
        let rest = serve(FetchRequest(transfer: "t", path: path, offset: TransferLimits.chunkBytes * 2, credit: 2))
        #expect(rest.count == 1)
        let whole = (first + rest).flatMap { $0.1.bytes }
        #expect(whole == bytes)
        #expect(rest.last?.0.objectSize == bytes.count)
        #expect(rest.last?.0.objectCRC32 == objectCRC((first + rest).map { $0.1.bytes }))
    }

    @Test func refusesPathsOutsideItsFoldersAndDamagedChunks() throws {
        let (home, objects, staging) = try roots()
        let secret = home.url.appendingPathComponent("shoal.sqlite").path
        try Data("secret".utf8).write(to: URL(fileURLWithPath: secret))
        let server = TransferServer(servedRoots: [objects], stagingRoot: staging)

        var escaped: [(ChunkHeader, DataFrame)] = []
        server.serve(FetchRequest(transfer: "x", path: objects.path + "/../shoal.sqlite", offset: 0, credit: 1)) { escaped.append(($0, $1)) }
        #expect(escaped.first?.0.error?.contains("not in the object store") == true)
        #expect(escaped.first?.1.count == 0)

        let outside = server.receive(PutHeader(transfer: "y", destination: objects.path + "/b/planted", offset: 0, crc32: CRC32C.of([1])), [1])
        #expect(outside.error?.contains("not in the staging folder") == true)
        #expect(!FileManager.default.fileExists(atPath: objects.path + "/b/planted"))

        let target = staging.appendingPathComponent("run/out/file.bin").path
        let damaged = server.receive(PutHeader(transfer: "z", destination: target, offset: 0, crc32: CRC32C.of([1, 2, 3])), [1, 2, 4])
        #expect(damaged.error?.contains("checksum") == true)

        // A whole file whose total does not add up is removed, not left half-written.
        let good: [UInt8] = [1, 2, 3]
        let short = server.receive(PutHeader(transfer: "w", destination: target, offset: 0, crc32: CRC32C.of(good), objectSize: 4, objectCRC32: objectCRC([good])), DataFrame(good))
        #expect(short.error?.contains("arrived damaged") == true)
        #expect(!FileManager.default.fileExists(atPath: target))
        let ok = server.receive(PutHeader(transfer: "v", destination: target, offset: 0, crc32: CRC32C.of(good), objectSize: 3, objectCRC32: objectCRC([good])), DataFrame(good))
        #expect(ok.error == nil)
        #expect(FileManager.default.contents(atPath: target) == Data(good))
    }

    /// More transfers under way than files kept open: each waits with its file
    /// closed and goes on where it left off, reads and writes alike; a file
    /// replaced while its transfer waited fails that transfer, never mixes.
    @Test func transfersBeyondTheOpenFilesLimitGoOnWhereTheyLeftOff() throws {
        let (home, objects, staging) = try roots()
        _ = home
        let chunk = TransferLimits.chunkBytes
        var sources: [(path: String, bytes: [UInt8])] = []
        for index in 0..<3 {
            let bytes = (0..<(2 * chunk + 5 + index)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }
            let path = objects.appendingPathComponent("b/o\(index)").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            sources.append((path, bytes))
        }
        let server = TransferServer(servedRoots: [objects], stagingRoot: staging, maxOpenFiles: 2)
        var received: [[UInt8]] = Array(repeating: [], count: 3)
        var puts: [String] = []
        // One chunk of each in turn: each step opens a third file while two are open.
        for step in 0..<3 {
            for index in 0..<3 {
                server.serve(FetchRequest(transfer: "r\(index)", path: sources[index].path, offset: step * chunk, credit: 1)) { header, data in
                    #expect(header.error == nil, "\(header.error ?? "")")
                    received[index] += data.bytes
                }
                let piece = Array(sources[index].bytes[min(step * chunk, sources[index].bytes.count)..<min((step + 1) * chunk, sources[index].bytes.count)])
                let destination = staging.appendingPathComponent("out/o\(index)").path
                var header = PutHeader(transfer: "w\(index)", destination: destination, offset: step * chunk, crc32: CRC32C.of(piece))
                if step == 2 {
                    header.objectSize = sources[index].bytes.count
                    header.objectCRC32 = objectCRC([0, 1, 2].map { Array(sources[index].bytes[($0 * chunk)..<min(($0 + 1) * chunk, sources[index].bytes.count)]) })
                }
                let ack = server.receive(header, DataFrame(piece))
                #expect(ack.error == nil, "\(ack.error ?? "")")
                if step == 2 { puts.append(destination) }
            }
        }
        for index in 0..<3 {
            #expect(received[index] == sources[index].bytes)
            #expect(FileManager.default.contents(atPath: puts[index]) == Data(sources[index].bytes))
        }

        // Replaced (a new file renamed over it) while its transfer waited with the file closed.
        for index in 0..<3 {
            server.serve(FetchRequest(transfer: "s\(index)", path: sources[index].path, offset: 0, credit: 1)) { _, _ in }
        }
        let replacement = objects.appendingPathComponent("b/new").path
        try Data(sources[0].bytes.reversed()).write(to: URL(fileURLWithPath: replacement))
        #expect(rename(replacement, sources[0].path) == 0)
        var errors: [String] = []
        server.serve(FetchRequest(transfer: "s0", path: sources[0].path, offset: chunk, credit: 1)) { header, _ in errors += [header.error ?? ""] }
        #expect(errors.count == 1 && errors[0].contains("was replaced during the transfer"), "\(errors)")
    }
}
