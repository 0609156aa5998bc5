/// Tags as stored with every job instance: pipeline, then execution, then step
/// tags, a later key replacing an earlier one. Limits as AWS's (spec §8).
public enum Tags {
    public static let maxCount = 50
    public static let maxKeyLength = 128
    public static let maxValueLength = 256

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Checks a tag list; `source` names where it came from in the message.
    public static func validate(_ tags: [(key: String, value: String)], source: String) throws(Invalid) {
        guard tags.count <= maxCount else { throw Invalid(description: "\(source) has \(tags.count) tags; at most \(maxCount) are allowed.") }
        for (key, value) in tags {
            guard !key.isEmpty, key.count <= maxKeyLength else {
                throw Invalid(description: "\(source): tag key '\(key.prefix(40))…' must be 1 to \(maxKeyLength) characters; it has \(key.count).")
            }
            guard value.count <= maxValueLength else {
                throw Invalid(description: "\(source): the value of tag '\(key)' has \(value.count) characters; at most \(maxValueLength) are allowed.")
            }
            guard !key.lowercased().hasPrefix("aws:") else { throw Invalid(description: "\(source): tag key '\(key)' uses the reserved prefix aws:.") }
            guard !(key + value).unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw Invalid(description: "\(source): tag '\(key)' contains a control character, which cannot be stored.")
            }
        }
    }

    public static func merge(_ layers: [(key: String, value: String)]...) -> [(key: String, value: String)] {
        var merged: [(key: String, value: String)] = []
        for layer in layers {
            for (key, value) in layer {
                if let index = merged.firstIndex(where: { $0.key == key }) { merged[index].value = value } else { merged.append((key, value)) }
            }
        }
        return merged
    }
}
