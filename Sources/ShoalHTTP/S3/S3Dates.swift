import Foundation

/// The two date forms S3 writes: HTTP dates in headers, ISO 8601 with
/// milliseconds in XML. strftime rather than a DateFormatter: formatters are
/// neither cheap to make nor safe to share between requests.
enum S3Dates {
    static func http(_ date: Date) -> String { format(date, "%a, %d %b %Y %H:%M:%S GMT") }

    static func iso(_ date: Date) -> String {
        let millis = Int((date.timeIntervalSince1970 * 1000).truncatingRemainder(dividingBy: 1000))
        return format(date, "%Y-%m-%dT%H:%M:%S") + String(format: ".%03dZ", max(0, millis))
    }

    /// `Tue, 01 Dec 2026 05:00:00 GMT` (RFC 7231's preferred form, the one clients send).
    static func parseHTTP(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let month = months.firstIndex(of: String(parts[2])),
              let year = Int(parts[3])
        else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        var time = tm()
        time.tm_year = Int32(year - 1900)
        time.tm_mon = Int32(month)
        time.tm_mday = Int32(day)
        time.tm_hour = Int32(clock[0])
        time.tm_min = Int32(clock[1])
        time.tm_sec = Int32(clock[2])
        return Date(timeIntervalSince1970: TimeInterval(timegm(&time)))
    }

    private static func format(_ date: Date, _ pattern: String) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var time = tm()
        gmtime_r(&seconds, &time)
        var buffer = [Int8](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, pattern, &time)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
