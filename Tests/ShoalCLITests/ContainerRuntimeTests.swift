import Foundation
import ShoalRuntime
import ShoalTestSupport
import Testing

/// The oci runtime: a small image built here with podman (from busybox-static,
/// no registry needed) runs a processing step by the step's entrypoint and a
/// two-host training job by its own `train`, the hosts reaching each other by name.
/// Whether this host has what the oci runtime needs.
let podmanPresent = getuid() == 0 && ["/usr/bin/podman", "/bin/podman"].contains { FileManager.default.isExecutableFile(atPath: $0) }

@Suite(.serialized, .enabled(if: podmanPresent, "podman is not installed or this is not root: the oci runtime needs both (scripts/setup.sh installs podman, runc and busybox-static)"))
struct ContainerRuntimeTests {
    let home: TemporaryHome
    let tag = "localhost/shoal-test-busybox:\(getpid())"

    init() throws {
        home = try TemporaryHome()
        let folder = home.url.appendingPathComponent("scratch/image")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: folder.appendingPathComponent("busybox").path)
        try Data("""
            #!/bin/sh
            # SageMaker starts a training image as `IMAGE train`.
            set -e
            echo "$SM_CURRENT_HOST of $SM_HOSTS, epochs $(cat /opt/ml/input/config/hyperparameters.json)"
            port=$(sed 's/.*"port": *"\\([0-9]*\\)".*/\\1/' /opt/ml/input/config/hyperparameters.json)
            if [ "$SM_CURRENT_HOST" = algo-1 ]; then
                # -e: the connection is the program's stdin (nc's own would end at the empty stdin podman gives).
                nc -l -p "$port" -e /bin/sh -c 'cat > /opt/ml/model/heard.txt'
            else
                for i in $(seq 100); do echo "hello from $(hostname)" | nc algo-1 "$port" && break; sleep 0.1; done
                ls /opt/ml/input/data/train > /opt/ml/model/algo-2-files.txt
            fi
            """.utf8).write(to: folder.appendingPathComponent("train"))
        try Data("""
            FROM scratch
            COPY busybox /bin/busybox
            RUN ["/bin/busybox", "--install", "-s", "/bin"]
            COPY train /usr/local/bin/train
            RUN ["/bin/chmod", "755", "/usr/local/bin/train"]
            ENTRYPOINT ["/bin/sh", "-c", "exec \\\"$0\\\" \\\"$@\\\""]
            CMD ["/bin/sh"]
            """.utf8).write(to: folder.appendingPathComponent("Containerfile"))
        let runtime = FileManager.default.isExecutableFile(atPath: "/usr/sbin/runc") || FileManager.default.isExecutableFile(atPath: "/usr/bin/runc") ? ["--runtime", "runc"] : []
        let build = try ShoalProcess.run(executable: URL(fileURLWithPath: "/usr/bin/podman"), runtime + ["build", "-q", "-t", tag, folder.path], timeout: 120)
        try #require(build.status == 0, "podman could not build the test image: \(build.stderr)")
        #expect(try home.shoal(["images", "map", "*/busybox:*", "oci", "--oci-image", tag]).status == 0)
    }

    func removeImage() {
        _ = try? ShoalProcess.run(executable: URL(fileURLWithPath: "/usr/bin/podman"), ["rmi", "--force", tag], timeout: 60)
    }

    func run(_ steps: [[String: Any]], workers: Int = 1) throws -> ShoalProcess.Outcome {
        let text = String(decoding: try JSONSerialization.data(withJSONObject: ["Version": "2020-12-01", "Steps": steps]), as: UTF8.self)
        return try home.shoal(["run", try home.file("pipeline.json", text), "--workers", String(workers)], timeout: 180)
    }

    func read(_ uri: String) throws -> String {
        let local = home.url.appendingPathComponent("scratch/read-\(UUID().uuidString.prefix(6))").path
        try #require(try home.shoal(["cp", uri, local]).status == 0, "\(uri)")
        return try String(contentsOfFile: local, encoding: .utf8)
    }

    func containers(labelled folder: String) throws -> [String] {
        let listed = try ShoalProcess.run(executable: URL(fileURLWithPath: "/usr/bin/podman"), ["ps", "--all", "--quiet", "--filter", "label=shoal.work=\(folder)"], timeout: 60)
        return listed.stdout.split(separator: "\n").map(String.init)
    }

    /// A container a dead worker left (on a host where podman's conmon lives
    /// outside the worker's cgroup, as under systemd, killing the worker does not
    /// reach it) is removed by the next worker on the same work folder when it
    /// starts. Here the left container is made by hand, labelled as Shoal labels them.
    @Test func aWorkerOnTheSameFolderRemovesTheContainerADeadOneLeft() throws {
        defer { removeImage() }
        let jobs = home.url.appendingPathComponent("work/local-1/jobs").standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: jobs, withIntermediateDirectories: true)
        let runtime = FileManager.default.isExecutableFile(atPath: "/usr/sbin/runc") || FileManager.default.isExecutableFile(atPath: "/usr/bin/runc") ? ["--runtime", "runc"] : []
        // Spawned and reaped directly: Foundation's Process (and so ShoalProcess) waits for
        // pipes podman's conmon inherits and keeps open as long as the container runs.
        let idFile = home.url.appendingPathComponent("scratch/left.id").path
        let podman = try ChildProcess(arguments: ["/usr/bin/podman"] + runtime + ["run", "-d", "--label", "shoal.work=\(jobs)", "--network", "none",
                                                   "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", tag, "sleep", "300"],
                                      environment: ProcessInfo.processInfo.environment, directory: "/", outputFile: idFile)
        try #require(podman.wait(timeout: 60)?.code == 0, "podman could not start the left container: \((try? String(contentsOfFile: idFile, encoding: .utf8)) ?? "")")
        let id = ((try? String(contentsOfFile: idFile, encoding: .utf8)) ?? "").split(separator: "\n").last.map(String.init) ?? ""
        defer { _ = try? ShoalProcess.run(executable: URL(fileURLWithPath: "/usr/bin/podman"), ["rm", "--force", "--time", "0", id], timeout: 60) }
        // What a worker leaves beside its jobs folder when it starts a container.
        _ = FileManager.default.createFile(atPath: home.url.appendingPathComponent("work/local-1/.shoal-containers").path, contents: nil)
        #expect(try containers(labelled: jobs).count == 1)

        let next = try self.run([["Name": "Quick", "Type": "Processing", "Arguments": [
            "ProcessingResources": ["ClusterConfig": ["InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1]],
            "AppSpecification": ["ImageUri": "sh", "ContainerEntrypoint": ["true"]], "RoleArn": "r",
        ] as [String: Any]]])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try containers(labelled: jobs).isEmpty, "the next worker on the folder removed it")
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: home.url.appendingPathComponent("logs/workers").path)) ?? []
        let said = logs.compactMap { try? String(contentsOfFile: home.url.appendingPathComponent("logs/workers/\($0)").path, encoding: .utf8) }.joined()
        #expect(said.contains("removed 1 container(s) an earlier worker"), "\(said)")
    }

    @Test func aNetworkIsolatedProcessingStepRunsInTheContainerByItsEntrypoint() throws {
        defer { removeImage() }
        let outcome = try run([["Name": "Inside", "Type": "Processing", "Arguments": [
            "ProcessingResources": ["ClusterConfig": ["InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1]],
            "AppSpecification": ["ImageUri": "1.dkr.ecr.us-east-1.amazonaws.com/busybox:1", "ContainerEntrypoint": ["/bin/sh", "-c",
                "hostname > /opt/ml/processing/out/host; ls /sys/class/net > /opt/ml/processing/out/net; cat /opt/ml/config/resourceconfig.json > /opt/ml/processing/out/rc.json; ls / > /opt/ml/processing/out/root; id -u > /opt/ml/processing/out/uid"]],
            "ProcessingOutputConfig": ["Outputs": [["OutputName": "out", "S3Output": ["S3Uri": "s3://b/inside", "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"]]]],
            "NetworkConfig": ["EnableNetworkIsolation": true], "RoleArn": "r",
        ] as [String: Any]]])
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        #expect(try read("s3://b/inside/host") == "algo-1\n")
        #expect(try read("s3://b/inside/net") == "lo\n", "network isolation: loopback only")
        #expect(try read("s3://b/inside/rc.json").contains("\"current_host\":\"algo-1\""))
        let root = try read("s3://b/inside/root").split(separator: "\n")
        #expect(root.contains("bin") && !root.contains("home") && !root.contains("root"), "the image's own root, not the host's: \(root)")
        #expect(try read("s3://b/inside/uid") != "0\n", "a sandboxing worker's container runs as its unprivileged job user")
    }

    @Test func withoutContainerEntrypointTheImagesOwnRunsWithTheArguments() throws {
        defer { removeImage() }
        let outcome = try run([["Name": "Own", "Type": "Processing", "Arguments": [
            "ProcessingResources": ["ClusterConfig": ["InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1]],
            "AppSpecification": ["ImageUri": "1.dkr.ecr.us-east-1.amazonaws.com/busybox:1",
                                 "ContainerArguments": ["/bin/sh", "-c", "echo \"own entrypoint, $0\" > /opt/ml/processing/out/own", "sh"]],
            "ProcessingOutputConfig": ["Outputs": [["OutputName": "out", "S3Output": ["S3Uri": "s3://b/own", "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"]]]],
            "RoleArn": "r",
        ] as [String: Any]]])
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        #expect(try read("s3://b/own/own") == "own entrypoint, sh\n")
    }

    @Test func twoTrainingHostsRunTheImagesOwnTrainAndReachEachOtherByName() throws {
        defer { removeImage() }
        for name in ["a.csv", "b.csv"] {
            #expect(try home.shoal(["cp", try home.file(name, "1\n"), "s3://b/data/\(name)"]).status == 0)
        }
        let port = 20_000 + Int.random(in: 0..<30_000)
        let outcome = try run([["Name": "Train", "Type": "Training", "Arguments": [
            "AlgorithmSpecification": ["TrainingImage": "1.dkr.ecr.us-east-1.amazonaws.com/busybox:1", "TrainingInputMode": "File"],
            "HyperParameters": ["port": String(port)],
            "OutputDataConfig": ["S3OutputPath": "s3://b/models"], "RoleArn": "r",
            "ResourceConfig": ["InstanceCount": 2, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1],
            "InputDataConfig": [["ChannelName": "train", "DataSource": ["S3DataSource": [
                "S3DataType": "S3Prefix", "S3Uri": "s3://b/data/", "S3DataDistributionType": "ShardedByS3Key"]]]],
        ] as [String: Any]]], workers: 2)
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        let step = try #require(try home.latestSteps().first)
        let model = try #require(((step["properties"] as? [String: Any])?["ModelArtifacts"] as? [String: Any])?["S3ModelArtifacts"] as? String)
        let local = home.url.appendingPathComponent("scratch/model.tar.gz").path
        #expect(try home.shoal(["cp", model, local]).status == 0)
        let heard = try ShoalProcess.run(executable: URL(fileURLWithPath: "/bin/tar"), ["-xzOf", local, "heard.txt"])
        let logs = try home.shoal(["logs", try home.latestExecutionId(), "Train"]).stdout
        #expect(heard.stdout == "hello from algo-2\n", "\(heard.stdout) \(heard.stderr)\n\(logs)")
        let files = try ShoalProcess.run(executable: URL(fileURLWithPath: "/bin/tar"), ["-xzOf", local, "algo-2-files.txt"])
        #expect(files.stdout == "b.csv\n")
    }
}
