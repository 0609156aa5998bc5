import Foundation
import ShoalRuntime
import ShoalTestSupport
import Testing

/// Real jobs in the real sandbox (root only): what a job can reach, who it
/// runs as, and the limits that hold it.
@Suite(.serialized, .enabled(if: geteuid() == 0, "the sandbox needs root"))
struct SandboxTests {
    let folder: URL
    let mode: SandboxMode

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-sandbox-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        mode = SandboxMode.detected
    }

    func spec(_ script: String, inputs: [ProcessingInstanceSpec.Input] = [], limits: JobLimits? = nil, maxRuntime: Int = 60) -> ProcessingInstanceSpec {
        var spec = ProcessingInstanceSpec(
            jobName: "job", host: 1, hostCount: 1, instanceType: "ml.m5.large", command: ["/bin/sh", "-c", script],
            environment: [:], inputs: inputs, outputs: [.init(name: "out", localPath: "/opt/ml/processing/out")],
            maxRuntimeSeconds: maxRuntime, jobConfigJSON: "{}"
        )
        spec.limits = limits
        return spec
    }

    func start(_ spec: ProcessingInstanceSpec) throws -> (RunningJob, String) {
        guard case .jail = mode else { throw SandboxMissing(mode: mode) }
        let log = folder.appendingPathComponent("log-\(UUID().uuidString.prefix(6)).txt").path
        let job = try RunningJob(
            spec: spec, workFolder: folder.appendingPathComponent("work"), logFile: log,
            outputStaging: folder.appendingPathComponent("staged-\(UUID().uuidString.prefix(6))"), mode: mode, termGraceSeconds: 1
        )
        return (job, log)
    }

    func run(_ spec: ProcessingInstanceSpec) throws -> (InstanceOutcome, String) {
        try start(spec).0.finish()
    }

    struct SandboxMissing: Error, CustomStringConvertible {
        let mode: SandboxMode
        var description: String { "running as root, yet no sandbox: \(mode.summary)" }
    }

    func output(_ outcome: InstanceOutcome, _ name: String) throws -> String {
        let staged = try #require(outcome.outputs.first?.stagedAt)
        return try String(contentsOfFile: staged + "/" + name, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every reach outside the job's own files fails, and the log shows why;
    /// what the job is for (python3, its inputs, its outputs) still works.
    @Test func aJobReachesItsOwnFilesOnly() throws {
        // Stand-ins for the worker's secret key and the home's database, readable by everyone.
        let secret = folder.appendingPathComponent("keys/worker.key")
        let database = folder.appendingPathComponent("home/shoal.sqlite")
        for file in [secret, database] {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("secret\n".utf8).write(to: file)
            chmod(file.path, 0o644)
        }
        let source = folder.appendingPathComponent("rows.csv")
        try Data("a\nb\nc\n".utf8).write(to: source)
        let input = ProcessingInstanceSpec.Input(name: "data", localPath: "/opt/ml/processing/input", files: [.init(source: source.path, relativePath: "rows.csv")])
        let (outcome, log) = try run(spec("""
            out=/opt/ml/processing/out
            try() { if "$@"; then echo "$1 ${2:-}: allowed" >> $out/allowed; else echo "$1 ${2:-}: refused" >> $out/refused; fi; }
            try cat \(secret.path)
            try cat \(database.path)
            try ls /root/.bashrc
            try touch /usr/bin/planted
            try sh -c 'echo intruder::0:0::/:/bin/sh >> /etc/passwd'
            try sh -c 'echo changed > /opt/ml/processing/input/rows.csv'
            try mount -t tmpfs none /opt/ml/processing/out
            try cat /etc/shoal/keys/worker.key
            id -u > $out/uid
            ls /proc/self/fd | tr '\\n' ' ' > $out/descriptors
            grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\\t' ' ' > $out/status
            python3 -c 'import sys; print(sum(1 for _ in open(sys.argv[1])))' /opt/ml/processing/input/rows.csv > $out/rows
            true
            """, inputs: [input]))
        #expect(outcome.status == .completed, "\(outcome.failureReason ?? "") \(log)")
        #expect((try? output(outcome, "allowed")) == nil, "the job reached: \((try? output(outcome, "allowed")) ?? "")")
        let refused = try output(outcome, "refused")
        #expect(refused.split(separator: "\n").count == 8, "\(refused)")
        #expect(log.contains("No such file or directory") && log.contains("Read-only file system"), "\(log)")
        #expect(try output(outcome, "uid") != "0")
        // Standard input, output, error and ls's own: nothing of the worker's (or this test's).
        #expect(try output(outcome, "descriptors") == "0 1 2 3")
        #expect(try output(outcome, "status") == "CapEff: 0000000000000000\nNoNewPrivs: 1\nSeccomp: 2")
        #expect(try output(outcome, "rows") == "3")
        // The stored object behind the input is untouched.
        #expect(try String(contentsOf: source, encoding: .utf8) == "a\nb\nc\n")
    }

    /// A job cannot read another running instance's folder, nor write into its output.
    @Test func anotherInstancesFolderIsOutOfReach() throws {
        let (first, _) = try start(spec("echo mine > /opt/ml/processing/out/result; sleep 2"))
        let work = folder.appendingPathComponent("work")
        var sandbox: String?
        for _ in 0..<200 where sandbox == nil {
            sandbox = (try? FileManager.default.contentsOfDirectory(atPath: work.path))?.first { !$0.contains(".") }.map { work.path + "/" + $0 }
            usleep(5_000)
        }
        let victim = try #require(sandbox)
        let (second, secondLog) = try run(spec("""
            ls \(victim)/processing/out && echo listed > /opt/ml/processing/out/reached
            echo theirs > \(victim)/processing/out/result && echo wrote >> /opt/ml/processing/out/reached
            true
            """))
        #expect(second.status == .completed)
        #expect(second.outputs.first?.files == [], "\(secondLog)")
        let (outcome, _) = try first.finish()
        #expect(try output(outcome, "result") == "mine")
    }

    @Test func aJobPastItsMemoryLimitIsKilledAndTheReasonNamesTheLimit() throws {
        let (outcome, _) = try run(spec("python3 -c 'x = bytearray(512 << 20); print(len(x))'", limits: JobLimits(memoryBytes: 96 << 20)))
        #expect(outcome.status == .failed)
        #expect(outcome.failureReason == "AlgorithmError: the job went past its memory limit of 96 MiB and was killed")
    }

    /// A fork bomb meets the process limit, and the next job runs as before.
    @Test func aForkBombIsHeldByTheProcessLimit() throws {
        let (outcome, _) = try run(spec("bomb() { bomb | bomb & }; bomb; sleep 3", limits: JobLimits(processes: 64), maxRuntime: 2))
        #expect(outcome.status == .failed)
        #expect(outcome.failureReason?.contains("the job reached its limit of 64 processes") == true, "\(outcome.failureReason ?? "")")
        let (next, log) = try run(spec("echo fine > /opt/ml/processing/out/ok"))
        #expect(next.status == .completed, "\(log)")
        #expect(try output(next, "ok") == "fine")
    }

    /// VolumeSizeInGB bounds everything the job writes: past it, writes fail
    /// with ENOSPC in the job, and the reason says the volume was full.
    @Test(arguments: ["/opt/ml/processing/out/big", "/tmp/big", "/opt/ml/processing/input/big"])
    func aJobFillingItsVolumeFailsWithVolumeFull(target: String) throws {
        let source = folder.appendingPathComponent("rows-\(UUID().uuidString.prefix(6)).csv")
        try Data("a\n".utf8).write(to: source)
        let input = ProcessingInstanceSpec.Input(name: "data", localPath: "/opt/ml/processing/input", files: [.init(source: source.path, relativePath: "rows.csv")])
        let (outcome, log) = try run(spec("head -c 64000000 /dev/zero > \(target)", inputs: [input], limits: JobLimits(volumeBytes: 16 << 20)))
        #expect(outcome.status == .failed)
        #expect(outcome.failureReason?.hasPrefix("AlgorithmError: the instance's volume (16 MiB, VolumeSizeInGB) was full") == true, "\(outcome.failureReason ?? "")")
        #expect(log.contains("No space left on device"), "\(log)")
        // Nothing is left behind: no volume file, no mount.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("work").path)
        #expect(left.isEmpty, "\(left)")
        let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
        #expect(!mounts.contains(folder.path), "\(mounts)")
    }

    /// On a volume, what the job writes in its outputs (folders and links too)
    /// and /opt/ml/output comes back; the rest of /opt/ml stays closed.
    @Test func aJobOnAVolumeGivesItsOutputsBack() throws {
        let job = spec("""
            mkdir -p /opt/ml/processing/out/deep/er && echo nested > /opt/ml/processing/out/deep/er/file
            echo top > /opt/ml/processing/out/file && ln -s file /opt/ml/processing/out/link
            echo 'all good' > /opt/ml/output/message
            if touch /opt/ml/stray 2>/dev/null; then echo yes > /opt/ml/processing/out/stray; fi
            """, limits: JobLimits(volumeBytes: 16 << 20))
        let (outcome, log) = try run(job)
        #expect(outcome.status == .completed, "\(outcome.failureReason ?? "") \(log)")
        #expect(outcome.exitMessage == "all good")
        let staged = try #require(outcome.outputs.first { $0.name == "out" })
        #expect(staged.files.contains("file") && !staged.files.contains("stray"), "\(staged.files)")
        #expect(try output(outcome, "file") == "top")
        #expect(log.contains("link"), "the link is named as left out: \(log)")
        #expect(try output(outcome, "deep/er/file") == "nested")
    }

    /// Volume templates of sizes no job used for a week go when a new size's is made.
    @Test func oldVolumeTemplatesAreSweptWhenANewOneIsMade() throws {
        let cache = SandboxMode.skeletonCache
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let old = cache + "/volume-\(Int.random(in: 1_000_000...9_000_000)).img"
        #expect(FileManager.default.createFile(atPath: old, contents: Data("x".utf8)))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-8 * 86_400)], ofItemAtPath: old)
        let size = (16 + Int.random(in: 1...4096)) << 20
        let (outcome, log) = try run(spec("echo ok > /opt/ml/processing/out/ok", limits: JobLimits(volumeBytes: size)))
        #expect(outcome.status == .completed, "\(log)")
        #expect(FileManager.default.fileExists(atPath: cache + "/volume-\(size).img"))
        #expect(!FileManager.default.fileExists(atPath: old), "a template unused for 8 days stayed")
        try? FileManager.default.removeItem(atPath: cache + "/volume-\(size).img")
    }

    @Test func openFilesAreLimited() throws {
        let (outcome, _) = try run(spec("ulimit -n > /opt/ml/processing/out/files", limits: JobLimits(openFiles: 512)))
        #expect(try output(outcome, "files") == "512")
    }

    /// A function's warm process lives in the same sandbox: its code at
    /// /var/task, nothing of the host's files.
    @Test func aFunctionHandlerCannotReadTheWorkersKey() throws {
        let secret = folder.appendingPathComponent("keys/worker.key")
        try FileManager.default.createDirectory(at: secret.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("secret\n".utf8).write(to: secret)
        let code = folder.appendingPathComponent("code")
        try FileManager.default.createDirectory(at: code, withIntermediateDirectories: true)
        try Data("""
            import os
            def handler(event, context):
                try:
                    return {"read": open(event["path"]).read(), "cwd": os.getcwd(), "uid": os.getuid()}
                except OSError as error:
                    return {"error": type(error).__name__, "cwd": os.getcwd(), "uid": os.getuid()}
            """.utf8).write(to: code.appendingPathComponent("fn.py"))
        guard case .jail = mode else { throw SandboxMissing(mode: mode) }
        let process = try FunctionProcess(
            codeFolder: code.path, handler: "fn.handler", logFile: folder.appendingPathComponent("fn.log").path, mode: mode, scratchFolder: folder
        )
        defer { process.terminate() }
        func next() -> FunctionProcess.Reply? {
            for _ in 0..<2000 {
                if let reply = process.readReply() { return reply }
                usleep(5_000)
            }
            return nil
        }
        #expect(next() == .ready)
        try process.invoke(event: Data(#"{"path": "\#(secret.path)"}"#.utf8))
        guard case let .result(data)? = next() else { Issue.record("no result"); return }
        let reply = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(reply["error"] as? String == "FileNotFoundError", "\(reply)")
        #expect(reply["cwd"] as? String == "/var/task")
        #expect((reply["uid"] as? Int).map { $0 != 0 } == true)
    }
}
