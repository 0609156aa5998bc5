import Foundation

/// Text made safe for HTML: everything the console prints from the store or a
/// request (names, reasons, logs, parameters) passes through here.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// A path segment or query value.
    static func component(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }

    static func duration(from start: Date?, to end: Date?, now: Date = Date()) -> String {
        guard let start else { return "–" }
        let seconds = max(0, (end ?? now).timeIntervalSince(start))
        if seconds < 1 { return String(format: "%.0f ms", seconds * 1000) }
        if seconds < 120 { return String(format: "%.1f s", seconds) }
        if seconds < 7200 { return String(format: "%.0f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "–" }
        // ISO8601Format is a value-type format style: safe from any thread.
        return date.ISO8601Format().replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "")
    }

    static func bytes(_ count: Int?) -> String {
        guard let count else { return "–" }
        return ByteCountFormatter.string(fromByteCount: Int64(count), countStyle: .binary)
    }

    /// A status as a coloured pill; the class is the status's own name.
    static func status(_ text: String) -> String {
        "<span class=\"pill s-\(escape(text))\">\(escape(text))</span>"
    }
}
