import Foundation
import ShoalRuntime

/// A source directory's `requirements.txt` (at the top of the SDK's
/// `sourcedir.tar.gz`), which SageMaker's framework containers pip-install
/// before the entry point. Shoal adds its lines to the python runtime's
/// environment instead: the job's environment is read-only, built once per
/// host from binary wheels, and then already satisfies the container's own
/// `pip install -r requirements.txt` (FrameworkProcessor's runproc.sh).
enum SourceRequirements {
    static let maxBytes = 64 << 10

    /// The requirement lines, or none when the archive has no requirements.txt.
    static func read(archive path: String, name: String) throws(EvaluationError) -> [String] {
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/sh")
        // head bounds what is read whatever the archive holds; a missing member is simply no output.
        tar.arguments = ["-c", "tar -xzOf \"$1\" requirements.txt ./requirements.txt 2>/dev/null | head -c \(maxBytes + 1)", "sh", path]
        let output = Pipe()
        tar.standardOutput = output
        tar.standardError = FileHandle.nullDevice
        do { try tar.run() } catch { throw EvaluationError("\(name): cannot start tar to read requirements.txt: \(error.localizedDescription)") }
        let data = (try? output.fileHandleForReading.readToEnd()) ?? Data()
        tar.waitUntilExit()
        guard data.count <= maxBytes else { throw EvaluationError("\(name): requirements.txt is larger than \(maxBytes >> 10) KiB.") }
        return try lines(String(decoding: data, as: UTF8.self), name: name)
    }

    static func lines(_ text: String, name: String) throws(EvaluationError) -> [String] {
        var requirements: [String] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if line.isEmpty { continue }
            guard !line.hasPrefix("-") else {
                throw EvaluationError("\(name): requirements.txt line \(number + 1) '\(line.prefix(80))' is a pip option; Shoal builds the environment from requirement lines only.")
            }
            requirements.append(line)
        }
        return requirements
    }

    /// The runtime with the source directory's requirements added (a python runtime only;
    /// the host's and a container's own Python are theirs to provide).
    static func runtime(_ runtime: JobRuntime, adding extra: [String]) -> JobRuntime {
        guard case let .python(_, requirements) = runtime, !extra.isEmpty else { return runtime }
        let all = requirements + extra.filter { !requirements.contains($0) }
        return .python(name: ImageMap.environmentName(all), requirements: all)
    }
}
