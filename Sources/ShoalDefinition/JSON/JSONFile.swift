import Foundation

/// Reads a JSON file for a configuration (prices, policies): a problem names
/// the file, and for bad JSON the line and column.
public enum JSONFile {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public static func load(_ path: String, maxBytes: Int = 16 << 20) throws(Failure) -> JSONValue {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = attributes?[.size] as? Int, attributes?[.type] as? FileAttributeType == .typeRegular else {
            throw Failure(description: "\(path): no such file")
        }
        guard size <= maxBytes else { throw Failure(description: "\(path): \(size) bytes, more than the \(maxBytes) allowed") }
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(description: "\(path): cannot be read") }
        do {
            return try JSONParser.parse(data)
        } catch {
            throw Failure(description: "\(path): not valid JSON: \(error.reason) at line \(error.line), column \(error.column)")
        }
    }
}
