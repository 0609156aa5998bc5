import Foundation

/// Packs a job's output files into a gzipped tar, as SageMaker packs
/// /opt/ml/model into model.tar.gz: members named by their path under the
/// folder (no `./`), so `tarfile.extractall` gives back the folder's layout.
enum ModelArchive {
    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// `files` (path under the folder → staged file) are linked into `scratch`,
    /// then archived with GNU tar.
    static func pack(_ files: [(relative: String, path: String)], into archive: String, scratch: String) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        for (relative, path) in files {
            let target = scratch + "/" + relative
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if link(path, target) != 0 { try manager.copyItem(atPath: path, toPath: target) }
        }
        let list = scratch + ".list"
        try Data(files.map { $0.relative + "\0" }.joined().utf8).write(to: URL(fileURLWithPath: list))
        defer { try? manager.removeItem(atPath: list) }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-czf", archive, "-C", scratch, "--null", "--no-recursion", "--verbatim-files-from", "-T", list]
        let errors = Pipe()
        tar.standardError = errors
        tar.standardOutput = FileHandle.nullDevice
        do { try tar.run() } catch { throw Failed(description: "cannot start tar to pack \((archive as NSString).lastPathComponent): \(error.localizedDescription)") }
        // Not readDataToEndOfFile, which traps on a read error.
        let message = (try? errors.fileHandleForReading.readToEnd()) ?? Data()
        tar.waitUntilExit()
        guard tar.terminationStatus == 0 else {
            throw Failed(description: "cannot pack \((archive as NSString).lastPathComponent): \(String(decoding: message.prefix(1024), as: UTF8.self))")
        }
    }
}
