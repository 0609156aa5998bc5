import Foundation
import ShoalTestSupport
import Testing

/// Runs scripts/cluster-test.sh (three hosts in network namespaces) when it can:
/// it needs root and iproute2.
@Suite(.serialized) struct ClusterScriptTests {
    static let canRun = geteuid() == 0
        && (FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip"))

    @Test(.enabled(if: canRun, "network namespaces need root and iproute2's ip"))
    func threeHostsSurviveAKilledWorkerACutLinkAndAStrangerKey() throws {
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/cluster-test.sh")
        let outcome = try ShoalProcess.run(
            executable: URL(fileURLWithPath: "/bin/bash"), [script.path], environment: ["SHOAL": ShoalProcess.executable.path], timeout: 240
        )
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        #expect(outcome.stdout.contains("cluster-test: all passed"))
    }
}

/// Runs scripts/chaos-test.sh: ten rounds of the coordinator or a worker killed
/// with SIGKILL mid-run on a three-host cluster; every execution must succeed
/// with each output once, no job process may outlive its worker, and the
/// store must pass its integrity check.
@Suite(.serialized) struct ChaosScriptTests {
    @Test(.enabled(if: ClusterScriptTests.canRun, "network namespaces need root and iproute2's ip"))
    func tenRoundsOfKillsLoseNothingAndLeaveNothing() throws {
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/chaos-test.sh")
        let outcome = try ShoalProcess.run(
            executable: URL(fileURLWithPath: "/bin/bash"), [script.path, "10"],
            environment: ["SHOAL": ShoalProcess.executable.path, "CHAOS_SEED": "\(Int.random(in: 1...1_000_000))"], timeout: 900
        )
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        #expect(outcome.stdout.contains("chaos-test: all passed: 10 rounds"))
    }
}
