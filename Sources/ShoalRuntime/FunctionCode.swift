import Foundation

/// A registered function's code folder, as a worker on another host needs to
/// know it: the files to fetch and a version naming this registration.
public enum FunctionCode {
    /// A function's code is a handful of modules, not a dataset.
    public static let maxFiles = 1000

    public struct TooLarge: Error, CustomStringConvertible {
        public let folder: String
        public var description: String { "the function code in \(folder) has more than \(FunctionCode.maxFiles) files" }
    }

    /// Relative paths of the regular files under `folder`, sorted.
    public static func files(in folder: String) throws -> [String] {
        var files: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        while let relative = walker.nextObject() as? String {
            guard walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular else { continue }
            files.append(relative)
            if files.count > maxFiles { throw TooLarge(folder: folder) }
        }
        return files.sorted()
    }

    public static func version(of registered: Date) -> String {
        String(Int64(registered.timeIntervalSince1970 * 1_000_000))
    }
}
