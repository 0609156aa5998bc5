import Foundation

/// ISO 8601 durations as `CacheConfig.ExpireAfter` takes them: `PT1H`,
/// `P30D`, `p1dt12h`, `P1W`, and the developer guide's `30d`, `T12H`,
/// `30dT5h` (the leading `P` optional); a month is 30 days and a year 365, as
/// the service counts them.
public enum ISODuration {
    public static func seconds(_ text: String) -> TimeInterval? {
        var upper = Substring(text.uppercased())
        if upper.hasPrefix("P") { upper = upper.dropFirst() }
        guard !upper.isEmpty else { return nil }
        var total = 0.0
        var number = ""
        var inTime = false
        var sawUnit = false
        var sawTimeUnit = false
        for character in upper {
            if character == "T" {
                guard !inTime, number.isEmpty else { return nil }
                inTime = true
                continue
            }
            if character.isNumber || character == "." || character == "," {
                number.append(character == "," ? "." : character)
                continue
            }
            guard let value = Double(number) else { return nil }
            number = ""
            let unit: Double
            switch (character, inTime) {
            case ("Y", false): unit = 365 * 86_400
            case ("M", false): unit = 30 * 86_400
            case ("W", false): unit = 7 * 86_400
            case ("D", false): unit = 86_400
            case ("H", true): unit = 3_600
            case ("M", true): unit = 60
            case ("S", true): unit = 1
            default: return nil
            }
            total += value * unit
            sawUnit = true
            sawTimeUnit = sawTimeUnit || inTime
        }
        return number.isEmpty && sawUnit && inTime == sawTimeUnit ? total : nil
    }
}
