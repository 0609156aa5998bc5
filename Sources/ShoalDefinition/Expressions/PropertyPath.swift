/// The grammar shared by step property paths (`Outputs['train'].S3Output`) and
/// `Std:JsonGet` paths (`regression_metrics.mse.value`, `Result[1]`).
public enum PropertyPath {
    public enum Segment: Sendable, Hashable {
        case member(String)
        case index(Int)
        case key(String)
    }

    public struct ParseError: Error, Equatable {
        public let reason: String
    }

    /// Parses segments that each start with `.`, `[n]` or `['key']`. Works on
    /// UTF-8 bytes: every Get of a large definition passes through here.
    public static func parse(_ text: Substring) -> Result<[Segment], ParseError> {
        var segments: [Segment] = []
        let bytes = Array(text.utf8)
        var index = 0
        func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "."):
                index += 1
                let start = index
                while index < bytes.count && bytes[index] != UInt8(ascii: ".") && bytes[index] != UInt8(ascii: "[") {
                    guard isMemberByte(bytes[index]) else {
                        return .failure(ParseError(reason: "member '\(string(start..<bytes.count))' may contain only letters, digits and '_'"))
                    }
                    index += 1
                }
                guard index > start else { return .failure(ParseError(reason: "it has an empty member name")) }
                segments.append(.member(string(start..<index)))
            case UInt8(ascii: "["):
                let open = index
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "'") || bytes[index] == UInt8(ascii: "\"") {
                    let quote = bytes[index]
                    let start = index + 1
                    var end = start
                    while end + 1 < bytes.count && !(bytes[end] == quote && bytes[end + 1] == UInt8(ascii: "]")) { end += 1 }
                    guard end + 1 < bytes.count else { return .failure(ParseError(reason: "a '[' is not closed")) }
                    segments.append(.key(string(start..<end)))
                    index = end + 2
                } else {
                    let start = index
                    while index < bytes.count && bytes[index] != UInt8(ascii: "]") { index += 1 }
                    guard index < bytes.count else { return .failure(ParseError(reason: "a '[' is not closed")) }
                    guard let position = Int(string(start..<index)), position >= 0 else {
                        return .failure(ParseError(reason: "'\(string(open..<index + 1))' is neither a list position nor a quoted key"))
                    }
                    segments.append(.index(position))
                    index += 1
                }
            default:
                return .failure(ParseError(reason: "expected '.' or '[' at '\(string(index..<bytes.count))'"))
            }
        }
        return .success(segments)
    }

    private static func isMemberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: ":"):
            true
        default:
            // Letters beyond ASCII, as JSON keys in property files may hold them.
            byte >= 0x80
        }
    }

    /// Parses a `Std:JsonGet` path, where the first name has no leading dot and `$`/`$.` may lead.
    public static func parseJsonPath(_ text: String) -> Result<[Segment], ParseError> {
        var body = Substring(text)
        if body.hasPrefix("$") { body = body.dropFirst() }
        if let first = body.first, first != "." && first != "[" { body = "." + body }
        let utf8 = Array(body.utf8)
        if utf8.contains(UInt8(ascii: "*")) || zip(utf8, utf8.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") || $0 == UInt8(ascii: "?") && $1 == UInt8(ascii: "(") }) {
            return .failure(ParseError(reason: "wildcards, deep scans and filters are not supported"))
        }
        let result = parse(body)
        if case let .success(segments) = result, segments.isEmpty {
            return .failure(ParseError(reason: "the path is empty"))
        }
        return result
    }

    /// The members that name the elements of the lists a property path can index
    /// with `['key']` (spec §2.3): `Outputs['train']` is the element whose
    /// `OutputName` is `train`.
    public static let listKeyFields = [
        "OutputName", "InputName", "MetricName", "ChannelName", "Name", "RuleConfigurationName", "InstanceGroupName",
    ]

    /// `Outputs['train'].S3Output`, each segment with its leading `.` or `[`.
    public static func render(_ segments: [Segment]) -> String {
        segments.map { segment in
            switch segment {
            case let .member(name): "." + name
            case let .index(index): "[\(index)]"
            case let .key(key): "['\(key)']"
            }
        }.joined()
    }
}
