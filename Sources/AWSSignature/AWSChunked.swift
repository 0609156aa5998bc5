import Crypto
import Foundation

/// Decodes an `aws-chunked` body (`Content-Encoding: aws-chunked`), as S3
/// clients send when they stream: `SIZE[;chunk-signature=SIG]\r\nDATA\r\n`
/// chunks, a zero-size chunk, then trailing headers (a checksum) and a blank
/// line. Each chunk's signature chains from the request's, so a chunk changed,
/// dropped or reordered in flight is refused.
package struct AWSChunkedDecoder {
    /// What the chunk signatures are checked with; nil for `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
    package struct Signer {
        package let key: SymmetricKey
        package let amzDate: String
        package let scope: String
        package var previous: String

        package init(key: SymmetricKey, amzDate: String, scope: String, previous: String) {
            self.key = key
            self.amzDate = amzDate
            self.scope = scope
            self.previous = previous
        }
    }

    package struct Malformed: Error, CustomStringConvertible {
        package let description: String
    }

    private enum State { case header, data(remaining: Int), dataEnd, trailers, done }
    private var state = State.header
    private var line: [UInt8] = []
    private var signer: Signer?
    private var chunkSignature = ""
    private var chunkHash = SHA256()
    package private(set) var trailers: [(name: String, value: String)] = []
    /// A chunk header or trailer line longer than this is not one.
    private static let maxLine = 8 << 10

    package init(signer: Signer?) { self.signer = signer }

    package var isDone: Bool { if case .done = state { true } else { false } }

    /// Feeds bytes as they arrive; `emit` gets the decoded data.
    package mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var index = 0
        while index < bytes.count {
            switch state {
            case .data(let remaining):
                let take = min(remaining, bytes.count - index)
                let slice = UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)])
                if signer != nil { chunkHash.update(bufferPointer: slice) }
                try emit(slice)
                index += take
                state = remaining == take ? .dataEnd : .data(remaining: remaining - take)
            case .done:
                throw Malformed(description: "bytes after the final chunk of an aws-chunked body")
            default:
                let byte = bytes[index]
                index += 1
                line.append(byte)
                guard line.count <= Self.maxLine else { throw Malformed(description: "an aws-chunked line is longer than \(Self.maxLine) bytes") }
                if line.count >= 2, line[line.count - 2] == 13, byte == 10 {
                    let text = String(decoding: line.dropLast(2), as: UTF8.self)
                    line.removeAll(keepingCapacity: true)
                    try endOfLine(text)
                }
            }
        }
    }

    private mutating func endOfLine(_ text: String) throws {
        switch state {
        case .header:
            let parts = text.split(separator: ";", maxSplits: 1)
            guard let first = parts.first, let size = Int(first, radix: 16), size >= 0 else {
                throw Malformed(description: "'\(text.prefix(64))' is not an aws-chunked chunk header")
            }
            chunkSignature = parts.count == 2 && parts[1].hasPrefix("chunk-signature=") ? String(parts[1].dropFirst(16)) : ""
            if signer != nil, chunkSignature.isEmpty { throw Malformed(description: "a chunk has no chunk-signature") }
            chunkHash = SHA256()
            if size == 0 {
                try verifyChunk()
                state = .trailers
            } else {
                state = .data(remaining: size)
            }
        case .dataEnd:
            guard text.isEmpty else { throw Malformed(description: "a chunk is longer than its header says") }
            try verifyChunk()
            state = .header
        case .trailers:
            if text.isEmpty {
                state = .done
                return
            }
            guard let colon = text.firstIndex(of: ":") else { throw Malformed(description: "'\(text.prefix(64))' is not a trailing header") }
            trailers.append((text[..<colon].lowercased(), text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            guard trailers.count <= 16 else { throw Malformed(description: "more than 16 trailing headers") }
        case .data, .done:
            break
        }
    }

    private mutating func verifyChunk() throws {
        guard var signer else { return }
        let stringToSign = [
            "AWS4-HMAC-SHA256-PAYLOAD", signer.amzDate, signer.scope, signer.previous, SigV4.emptyHash,
            SigV4.hex(chunkHash.finalize()),
        ].joined(separator: "\n")
        let expected = SigV4.sign(stringToSign, key: signer.key)
        guard SigV4.same(expected, chunkSignature) else {
            throw AWSError(code: "SignatureDoesNotMatch", status: 403, message: "a chunk's signature does not match its bytes (aws-chunked body)")
        }
        signer.previous = expected
        self.signer = signer
    }

    /// The end of the body: every chunk must have come.
    package func finish() throws {
        guard isDone || (signer == nil && { if case .trailers = state { true } else { false } }()) else {
            throw Malformed(description: "the aws-chunked body ended before its final chunk")
        }
    }
}
