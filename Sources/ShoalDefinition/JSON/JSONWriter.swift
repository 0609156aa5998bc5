/// Writes `JSONValue` as JSON text, keeping key order.
public enum JSONWriter {
    public static func string(_ value: JSONValue, pretty: Bool = false) -> String {
        var out = ""
        write(value, to: &out, indent: pretty ? 0 : nil)
        return out
    }

    /// Compact JSON with every object's keys sorted: equal documents give equal
    /// text whatever their key order, which is what a digest needs.
    public static func canonical(_ value: JSONValue) -> String {
        string(sortedKeys(value))
    }

    static func sortedKeys(_ value: JSONValue) -> JSONValue {
        switch value {
        case let .object(fields):
            .object(OrderedFields(fields.entries.map { ($0.key, sortedKeys($0.value)) }.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }))
        case let .array(elements): .array(elements.map(sortedKeys))
        default: value
        }
    }

    static func write(_ value: JSONValue, to out: inout String, indent: Int?) {
        switch value {
        case .null: out += "null"
        case let .bool(flag): out += flag ? "true" : "false"
        case let .number(number): out += number.description
        case let .string(text): writeString(text, to: &out)
        case let .array(elements):
            if elements.isEmpty { out += "[]"; return }
            out += "["
            for (position, element) in elements.enumerated() {
                if position > 0 { out += "," }
                newline(&out, indent.map { $0 + 1 })
                write(element, to: &out, indent: indent.map { $0 + 1 })
            }
            newline(&out, indent)
            out += "]"
        case let .object(fields):
            if fields.isEmpty { out += "{}"; return }
            out += "{"
            for (position, entry) in fields.entries.enumerated() {
                if position > 0 { out += "," }
                newline(&out, indent.map { $0 + 1 })
                writeString(entry.key, to: &out)
                out += indent == nil ? ":" : ": "
                write(entry.value, to: &out, indent: indent.map { $0 + 1 })
            }
            newline(&out, indent)
            out += "}"
        }
    }

    private static func newline(_ out: inout String, _ indent: Int?) {
        guard let indent else { return }
        out += "\n"
        out += String(repeating: "  ", count: indent)
    }

    static func writeString(_ text: String, to out: inout String) {
        out += "\""
        // Most strings need no escaping: append them whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += text
            out += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text.
    public var description: String { JSONWriter.string(self) }
}
