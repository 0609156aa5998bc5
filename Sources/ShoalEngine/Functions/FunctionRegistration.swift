import Foundation
import ShoalStore
import ZIPFoundation

/// Registers the Lambda-style functions Lambda steps call: the name and
/// handler rules, and the code copied into the home and swapped in whole, so a
/// running worker never sees half of it. `shoal functions create` and the
/// endpoint's Lambda API (CreateFunction, UpdateFunctionCode) both come here.
public enum FunctionRegistration {
    public struct Refused: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public enum Code {
        /// One Python file: the handler's module.
        case script(String)
        /// A folder of code, copied whole.
        case folder(String)
        /// A zip archive's bytes (Lambda's `ZipFile`), unpacked.
        case zip(Data)
    }

    /// Lambda's own bounds on an unpacked package.
    public static let maxUnzippedBytes = 250 << 20
    public static let maxEntries = 20_000

    public static func check(name: String, handler: String, timeout: Int) throws(Refused) {
        guard name.range(of: "^[A-Za-z0-9_-]{1,64}$", options: .regularExpression) != nil else {
            throw Refused("the function name '\(name.prefix(80))' may contain only letters, digits, '-' and '_' (1 to 64)")
        }
        let parts = handler.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else { throw Refused("the handler must be module.function; got '\(handler.prefix(128))'") }
        guard (1...900).contains(timeout) else { throw Refused("the timeout must be between 1 and 900 seconds; got \(timeout)") }
    }

    /// Copies the code in and records the function (replacing one of that name).
    @discardableResult
    public static func register(name: String, handler: String, timeout: Int, code: Code, home: ShoalHome) throws -> FunctionRecord {
        try check(name: name, handler: handler, timeout: timeout)
        let manager = FileManager.default
        try manager.createDirectory(at: home.functionsFolder, withIntermediateDirectories: true)
        let staged = home.functionsFolder.appendingPathComponent(".\(name)-\(UUID().uuidString)")
        do {
            switch code {
            case .script(let path):
                let module = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                guard handler.split(separator: ".").dropLast().joined(separator: ".") == module else {
                    throw Refused("the handler '\(handler)' names module '\(handler.split(separator: ".").dropLast().joined(separator: "."))', but the script is module '\(module)'")
                }
                guard manager.fileExists(atPath: path) else { throw Refused("\(path): no such file") }
                try manager.createDirectory(at: staged, withIntermediateDirectories: true)
                try manager.copyItem(atPath: path, toPath: staged.appendingPathComponent(URL(fileURLWithPath: path).lastPathComponent).path)
            case .folder(let path):
                var isDirectory: ObjCBool = false
                guard manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { throw Refused("\(path): no such folder") }
                try manager.copyItem(atPath: path, toPath: staged.path)
            case .zip(let data):
                try unzip(data, into: staged)
            }
            let target = home.functionsFolder.appendingPathComponent(name)
            if manager.fileExists(atPath: target.path) { try manager.removeItem(at: target) }
            try manager.moveItem(at: staged, to: target)
            let record = FunctionRecord(name: name, handler: handler, codePath: target.path, timeoutSeconds: timeout, createdAt: Date())
            try home.metadata.save(record)
            return record
        } catch {
            try? manager.removeItem(at: staged)
            throw error
        }
    }

    /// Unpacks a zip archive, refusing entries that would land outside the
    /// folder (ZIPFoundation checks each path) and archives past Lambda's size.
    static func unzip(_ data: Data, into folder: URL) throws {
        let archive: Archive
        do { archive = try Archive(data: data, accessMode: .read) } catch { throw Refused("the code is not a zip archive: \(error)") }
        var total: UInt64 = 0
        var count = 0
        for entry in archive {
            total += entry.uncompressedSize
            count += 1
            guard total <= UInt64(maxUnzippedBytes), count <= maxEntries else {
                throw Refused("the code unpacks to more than \(maxUnzippedBytes >> 20) MiB or \(maxEntries) files")
            }
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for entry in archive {
            let target = folder.appendingPathComponent(entry.path)
            guard target.standardizedFileURL.path.hasPrefix(folder.standardizedFileURL.path + "/") else {
                throw Refused("the archive's entry '\(entry.path.prefix(128))' would land outside the function's folder")
            }
            guard entry.type != .symlink else { throw Refused("the archive's entry '\(entry.path.prefix(128))' is a symbolic link") }
            do { _ = try archive.extract(entry, to: target) } catch { throw Refused("cannot unpack '\(entry.path.prefix(128))': \(error)") }
        }
        // Zips made by Python's writestr carry no permissions (files come out 0600):
        // the handler runs as the sandbox's job user, who must read them, as Lambda's runtime can.
        let manager = FileManager.default
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        for path in (try? manager.subpathsOfDirectory(atPath: folder.path)) ?? [] {
            let full = folder.appendingPathComponent(path).path
            var status = stat()
            guard lstat(full, &status) == 0 else { continue }
            let isDirectory = status.st_mode & S_IFMT == S_IFDIR
            let mode: Int16 = isDirectory || status.st_mode & 0o111 != 0 ? 0o755 : 0o644
            try manager.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
        }
    }
}
