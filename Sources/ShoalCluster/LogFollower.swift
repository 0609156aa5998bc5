import Foundation
import ShoalRuntime

/// Reads what was appended to a log since the last read, in bounded chunks.
final class LogFollower {
    let path: String
    let key: TaskKey
    private var offset: Int
    /// A task's own log file goes with the task: the coordinator keeps the log,
    /// and a long-running worker must not pile up a file per task.
    private let ownsFile: Bool
    static let chunkBytes = 64 * 1024
    /// What one last read may send (a job's tail); past it the log is cut with a note.
    static let maxFinalChunks = 256

    init(path: String, key: TaskKey, startingAt offset: Int = 0, ownsFile: Bool = false) {
        self.path = path
        self.key = key
        self.offset = offset
        self.ownsFile = ownsFile
    }

    deinit {
        if ownsFile { unlink(path) }
    }

    static func size(of path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// What was written since the last read: bounded per call, so a chatty job
    /// cannot stall the loop; `final` reads the rest once the job has ended.
    func read(final: Bool = false) -> [LogChunk] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        var chunks: [LogChunk] = []
        try? handle.seek(toOffset: UInt64(offset))
        for _ in 0..<(final ? Self.maxFinalChunks : 16) {
            guard let data = try? handle.read(upToCount: Self.chunkBytes), !data.isEmpty else { break }
            chunks.append(LogChunk(key: key, offset: offset, text: String(decoding: data, as: UTF8.self)))
            offset += data.count
        }
        if final {
            let size = Self.size(of: path)
            if offset < size {
                chunks.append(LogChunk(key: key, offset: offset, text: "\nshoal: the rest of this log (\(size - offset) bytes) was cut: it came faster than it could be sent\n"))
            }
        }
        return chunks
    }
}
