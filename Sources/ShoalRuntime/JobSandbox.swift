import Foundation

/// The folder an instance runs in, laid out as the container contract's
/// `/opt/ml` (spec §4.2): `config/`, `processing/<inputs and outputs>`, `output/`.
public struct JobSandbox: Sendable {
    public let root: URL

    public struct StagingFailed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Creates the layout, links (or, across filesystems, copies) every input
    /// file into place and creates every input and output folder, even empty ones.
    /// `jailed`, the folders the helper needs are made beside it (the job's root
    /// and /tmp); with an `owner`, the folders (not `config/`, not the input
    /// files) are that user's, so a job running as it can write its outputs.
    /// `writeHosts`: write the job's /etc/hosts even outside the helper's sandbox (a container's).
    public static func create(for spec: ProcessingInstanceSpec, in folder: URL, jailed: Bool = false, owner: JobUser? = nil, writeHosts: Bool = false) throws -> JobSandbox {
        let root = folder.appendingPathComponent("\(spec.jobName)-algo-\(spec.host)-\(UUID().uuidString.prefix(8))")
        let sandbox = JobSandbox(root: root)
        let manager = FileManager.default
        try manager.createDirectory(at: root.appendingPathComponent("config"), withIntermediateDirectories: true)
        try manager.createDirectory(at: root.appendingPathComponent("output"), withIntermediateDirectories: true)
        let hosts = (1...spec.hostCount).map { "algo-\($0)" }
        let resourceConfig: [String: Any] = [
            "current_host": "algo-\(spec.host)", "hosts": hosts,
            "current_instance_type": spec.instanceType, "network_interface_name": "lo",
        ]
        try write(JSONSerialization.data(withJSONObject: resourceConfig, options: [.sortedKeys]), to: root.appendingPathComponent("config/resourceconfig.json").path)
        try write(Data(spec.jobConfigJSON.utf8), to: root.appendingPathComponent("config/" + (spec.jobConfigName ?? "processingjobconfig.json")).path)
        for (path, contents) in (spec.configFiles ?? [:]).sorted(by: { $0.key < $1.key }) {
            let target = try sandbox.hostPath(path)
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try write(Data(contents.utf8), to: target)
        }

        for input in spec.inputs {
            let base = try sandbox.hostPath(input.localPath)
            try manager.createDirectory(atPath: base, withIntermediateDirectories: true)
            for file in input.files {
                guard !file.relativePath.split(separator: "/").contains("..") else {
                    throw StagingFailed(description: "input '\(input.name)': '\(file.relativePath)' would leave the sandbox")
                }
                let target = base + "/" + file.relativePath
                try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                // A hard link stages the bytes without copying them on the same filesystem.
                if link(file.source, target) != 0 {
                    do {
                        try manager.copyItem(atPath: file.source, toPath: target)
                    } catch {
                        throw StagingFailed(description: "input '\(input.name)': cannot stage \(file.source): \(error.localizedDescription)")
                    }
                }
            }
        }
        for output in spec.outputs {
            try manager.createDirectory(atPath: try sandbox.hostPath(output.localPath), withIntermediateDirectories: true)
        }
        if let items = spec.items {
            try manager.createDirectory(atPath: try sandbox.hostPath("/opt/ml/shoal"), withIntermediateDirectories: true)
            try write(Data(items.utf8), to: try sandbox.hostPath(JobSandbox.itemsPath))
        }
        if let peers = spec.peerAddresses, jailed || owner != nil || writeHosts {
            var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            for (index, address) in peers.enumerated() { hosts += "\(address)\talgo-\(index + 1)\n" }
            try write(Data(hosts.utf8), to: sandbox.hostsFile)
        }
        if jailed || owner != nil {
            try manager.createDirectory(atPath: sandbox.jailRoot, withIntermediateDirectories: true)
            try manager.createDirectory(atPath: sandbox.privateTmp, withIntermediateDirectories: true)
        }
        let volume = owner != nil && (spec.limits?.volumeBytes ?? 0) > 0
        if volume { try manager.createDirectory(atPath: sandbox.volumeMount, withIntermediateDirectories: true) }
        if let owner {
            // On a volume, the helper gives the job the volume's folders; the
            // rest of /opt/ml must then stay the worker's, or writes there would
            // bypass the volume.
            let inputs = volume ? try spec.inputs.map { try sandbox.hostPath($0.localPath) } : nil
            try sandbox.hand(to: owner, onlyWithin: inputs)
        }
        return sandbox
    }

    /// Gives the sandbox's folders and its /tmp to the job's user, or, with
    /// `onlyWithin`, only those folders and what they hold.
    private func hand(to owner: JobUser, onlyWithin: [String]?) throws {
        var folders = onlyWithin == nil ? [root.path, privateTmp] : []
        if let walker = FileManager.default.enumerator(atPath: root.path) {
            while let relative = walker.nextObject() as? String {
                let path = root.path + "/" + relative
                if relative == "config" {
                    walker.skipDescendants()
                } else if walker.fileAttributes?[.type] as? FileAttributeType == .typeDirectory,
                          onlyWithin?.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) ?? true {
                    folders.append(path)
                }
            }
        }
        for folder in folders { try owner.give(folder) }
    }

    /// The helper's `--volume` arguments: the volume's size, file and mount
    /// point, and each folder it covers (none nested in another: a covered
    /// folder's copy on the volume holds the folders below it).
    public func volumeArguments(for spec: ProcessingInstanceSpec) throws -> [String] {
        guard let bytes = spec.limits?.volumeBytes, bytes > 0 else { return [] }
        var arguments = ["--volume", String(bytes), volumeImage, volumeMount]
        var covered: [String] = []
        for path in try spec.outputs.map({ try hostPath($0.localPath) }).sorted(by: { $0.count < $1.count })
        where !covered.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) {
            covered.append(path)
            arguments += ["--volume-output", path]
        }
        return arguments + ["--volume-status", root.path + "/output", "--volume-scratch", privateTmp]
    }

    /// Writes a file of the sandbox. Not with `Data.write`, which syncs it to
    /// disk: two syncs per instance, for files that live as long as the job,
    /// cost more than the rest of its start.
    private static func write(_ data: Data, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StagingFailed(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let failure = data.withUnsafeBytes { writeAll($0, to: descriptor) }
        guard failure == 0 else { throw StagingFailed(description: "cannot write \(path): \(String(cString: strerror(failure)))") }
    }

    /// `shoal-sandbox --overlay` arguments that put each input folder under an
    /// overlay, so a job writing into an input file (a hard link to the stored
    /// object) changes a copy in the overlay's upper folder instead. An input
    /// folder that holds an output folder, or lies in one, is left as it is
    /// (the job's outputs must land in the sandbox), and so is one whose path
    /// the mount options could not carry.
    /// The overlay's top folder takes its owner from the upper folder, so that is
    /// `owner`'s: the job may then add and replace files in its input folders,
    /// though not write into the stored objects' bytes (those stay the worker's).
    public func overlayArguments(for spec: ProcessingInstanceSpec, owner: JobUser? = nil) throws -> [String] {
        let outputs = try spec.outputs.map { try hostPath($0.localPath) }
        // Parents first, so a nested input's overlay goes on top of its parent's.
        let inputs = Set(try spec.inputs.map { try hostPath($0.localPath) }).sorted { $0.count < $1.count }
        // Mount options are comma-separated `key=path` pairs; these characters would be read as syntax.
        func carried(_ path: String) -> Bool { !path.contains(where: { ",:\\".contains($0) }) }
        guard carried(overlayRoot) else { return [] }
        var arguments: [String] = []
        for (index, lower) in inputs.enumerated() {
            guard !outputs.contains(where: { $0 == lower || $0.hasPrefix(lower + "/") || lower.hasPrefix($0 + "/") }), carried(lower) else { continue }
            let upper = overlayRoot + "/\(index)/upper", work = overlayRoot + "/\(index)/work"
            try FileManager.default.createDirectory(atPath: upper, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try owner?.give(upper)
            arguments += ["--overlay", "/opt/ml/" + lower.dropFirst(root.path.count + 1), lower, upper, work]
        }
        return arguments
    }

    /// Beside the sandbox, not in it: an overlay's upper folder may not lie in its lower one.
    private var overlayRoot: String { root.path + ".overlay" }
    /// Where the helper assembles the job's root (an empty folder it mounts over).
    var jailRoot: String { root.path + ".root" }
    /// The job's /tmp, on disk beside its folder rather than in memory.
    var privateTmp: String { root.path + ".tmp" }
    /// The job's volume: its sparse file, and where the helper mounts it.
    var volumeImage: String { root.path + ".volume.img" }
    var volumeMount: String { root.path + ".volume" }
    /// The job's /etc/hosts, when its hosts must reach each other by name.
    var hostsFile: String { root.path + ".hosts" }
    /// Where the helper writes which limit, if any, ended the job.
    var verdictPath: String { root.path + ".verdict" }

    /// The sentence the helper wrote when a limit ended the job.
    var verdict: String? {
        guard let data = FileManager.default.contents(atPath: verdictPath), !data.isEmpty else { return nil }
        return String(decoding: data.prefix(512), as: UTF8.self)
    }

    /// Where an instance finds its share of a `Shoal:ItemShards` list.
    public static let itemsPath = "/opt/ml/shoal/items.json"
    /// Under TLS, the certificates a job trusts the endpoint with (its AWS_CA_BUNDLE).
    public static let endpointCABundlePath = "/opt/ml/shoal/endpoint-ca.pem"
    /// Larger shares are only in the file: environment strings are limited.
    public static let maxItemsInEnvironment = 64 * 1024

    /// Where a container path under /opt/ml lives on the host.
    public func hostPath(_ containerPath: String) throws -> String {
        guard containerPath.hasPrefix("/opt/ml/"), !containerPath.split(separator: "/").contains("..") else {
            throw StagingFailed(description: "'\(containerPath)' is not a path under /opt/ml")
        }
        return root.path + "/" + containerPath.dropFirst("/opt/ml/".count)
    }

    /// Rewrites `/opt/ml` in a string to the sandbox folder (path-rewriting mode).
    public func rewrite(_ text: String) -> String {
        text.replacingOccurrences(of: "/opt/ml", with: root.path)
    }

    /// The first 1 KiB of /opt/ml/output/message (a processing job's), else of
    /// /opt/ml/output/failure (a training job's), if the job wrote one.
    public var exitMessage: String? {
        let output = root.appendingPathComponent("output")
        guard let handle = FileHandle(forReadingAtPath: output.appendingPathComponent("message").path)
            ?? FileHandle(forReadingAtPath: output.appendingPathComponent("failure").path) else { return nil }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: 1024)) ?? Data()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// /opt/ml/output/metrics.json, the documented place for a job's own metrics.
    public var metricsJSON: String? {
        let path = root.appendingPathComponent("output/metrics.json").path
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size <= 1 << 20,
              let data = FileManager.default.contents(atPath: path)
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Moves an output folder to `destination` and lists its regular files;
    /// anything else in it (symbolic links, sockets, devices) is left out and
    /// returned, for the step's log to say so. Each file becomes the worker's,
    /// writable by it alone: an output becomes a stored object that later jobs
    /// get as a hard link, which no job's user may then change.
    public func takeOutput(_ output: ProcessingInstanceSpec.Output, to destination: URL) throws -> (files: InstanceOutcome.OutputFiles, leftOut: [String]) {
        let source = try hostPath(output.localPath)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard rename(source, destination.path) == 0 else {
            throw StagingFailed(description: "output '\(output.name)': cannot move \(source): \(String(cString: strerror(errno)))")
        }
        var files: [String] = []
        var leftOut: [String] = []
        var bytes = 0
        if let walker = FileManager.default.enumerator(atPath: destination.path) {
            while let relative = walker.nextObject() as? String {
                let type = walker.fileAttributes?[.type] as? FileAttributeType
                if type == .typeDirectory { continue }
                guard type == .typeRegular else {
                    leftOut.append(relative)
                    continue
                }
                let path = destination.path + "/" + relative
                if (walker.fileAttributes?[.ownerAccountID] as? Int).map({ $0 != Int(geteuid()) }) ?? true {
                    guard lchown(path, geteuid(), getegid()) == 0 else {
                        throw StagingFailed(description: "output '\(output.name)': cannot take \(relative) from the job's user: \(String(cString: strerror(errno)))")
                    }
                }
                let mode = (walker.fileAttributes?[.posixPermissions] as? Int) ?? 0o644
                if mode & ~0o755 != 0 { chmod(path, mode_t(mode & 0o755)) }
                files.append(relative)
                bytes += (walker.fileAttributes?[.size] as? Int) ?? 0
            }
        }
        return (InstanceOutcome.OutputFiles(name: output.name, stagedAt: destination.path, files: files.sorted(), bytes: bytes), leftOut.sorted())
    }

    public func remove() {
        try? FileManager.default.removeItem(at: root)
        for sibling in [overlayRoot, jailRoot, privateTmp, verdictPath, volumeImage, volumeMount, hostsFile] { try? FileManager.default.removeItem(atPath: sibling) }
    }
}
