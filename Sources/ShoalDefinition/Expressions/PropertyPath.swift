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

    /// Parses segments that each start with `.`, `[n]` or `['key']`.
    public static func parse(_ text: Substring) -> Result<[Segment], ParseError> {
        var segments: [Segment] = []
        var rest = text
        while let first = rest.first {
            if first == "." {
                rest = rest.dropFirst()
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                let name = rest[..<end]
                guard !name.isEmpty else { return .failure(ParseError(reason: "it has an empty member name")) }
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ":" }) else {
                    return .failure(ParseError(reason: "member '\(name)' may contain only letters, digits and '_'"))
                }
                segments.append(.member(String(name)))
                rest = rest[end...]
            } else if first == "[" {
                guard let close = closingBracket(in: rest) else {
                    return .failure(ParseError(reason: "a '[' is not closed"))
                }
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                if let quote = inner.first, quote == "'" || quote == "\"", inner.count >= 2, inner.last == quote {
                    segments.append(.key(String(inner.dropFirst().dropLast())))
                } else if let index = Int(inner), index >= 0 {
                    segments.append(.index(index))
                } else {
                    return .failure(ParseError(reason: "'[\(inner)]' is neither a list position nor a quoted key"))
                }
                rest = rest[rest.index(after: close)...]
            } else {
                return .failure(ParseError(reason: "expected '.' or '[' at '\(rest)'"))
            }
        }
        return .success(segments)
    }

    /// Parses a `Std:JsonGet` path, where the first name has no leading dot and `$`/`$.` may lead.
    public static func parseJsonPath(_ text: String) -> Result<[Segment], ParseError> {
        var body = Substring(text)
        if body.hasPrefix("$") { body = body.dropFirst() }
        if let first = body.first, first != "." && first != "[" { body = "." + body }
        if body.contains("*") || body.contains("..") || body.contains("?(") {
            return .failure(ParseError(reason: "wildcards, deep scans and filters are not supported"))
        }
        let result = parse(body)
        if case let .success(segments) = result, segments.isEmpty {
            return .failure(ParseError(reason: "the path is empty"))
        }
        return result
    }

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

    private static func closingBracket(in text: Substring) -> Substring.Index? {
        let afterOpen = text.index(after: text.startIndex)
        if let quote = text[afterOpen...].first, quote == "'" || quote == "\"" {
            var index = text.index(after: afterOpen)
            while index < text.endIndex {
                if text[index] == quote, text.index(after: index) < text.endIndex, text[text.index(after: index)] == "]" {
                    return text.index(after: index)
                }
                index = text.index(after: index)
            }
            return nil
        }
        return text[afterOpen...].firstIndex(of: "]")
    }
}
