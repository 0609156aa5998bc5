import ArgumentParser
import Foundation
import ShoalDefinition

/// Reads a definition from a path, or from standard input for `-`, refusing
/// anything larger than Shoal reads before loading it into memory.
enum DefinitionFile {
    struct ReadError: Error, CustomStringConvertible {
        let description: String
    }

    static func read(_ path: String) throws -> Data {
        if path == "-" {
            let data = FileHandle.standardInput.readData(ofLength: Limits.maxDocumentBytes + 1)
            guard data.count <= Limits.maxDocumentBytes else {
                throw ReadError(description: "standard input holds more than \(Limits.maxDocumentBytes) bytes; Shoal reads definitions of at most that size")
            }
            return data
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReadError(description: "\(path): no such file")
        }
        guard !isDirectory.boolValue else { throw ReadError(description: "\(path): is a directory, not a definition file") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= Limits.maxDocumentBytes else {
            throw ReadError(description: "\(path): \(size) bytes; Shoal reads definitions of at most \(Limits.maxDocumentBytes) bytes")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ReadError(description: "\(path): cannot be read (\(error.localizedDescription))")
        }
    }
}
