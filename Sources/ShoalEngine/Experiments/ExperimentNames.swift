/// Experiment and trial names as Shoal stores them.
public enum ExperimentNames {
    public static let maxLength = 120

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Letters, digits, '-', '_' and '.', 1 to 120 characters (SageMaker's own
    /// pattern is stricter; Shoal also takes the '_' and '.' of file-derived names).
    public static func validate(_ name: String, as what: String) throws(Invalid) {
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar))
        }
        guard !name.isEmpty, name.count <= maxLength, allowed else {
            throw Invalid(description: "\(what) '\(name)' cannot be stored: use 1 to \(maxLength) letters, digits, '-', '_' or '.'.")
        }
    }
}
