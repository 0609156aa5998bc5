import Foundation
import ShoalTestSupport
import Testing

/// The web console and /metrics of `shoal serve`, in a real headless Chromium
/// driven by Selenium (Tests/python/console_test.py), with pipelines started by boto3.
@Suite(.serialized) struct ConsoleTests {
    @Test func theConsoleShowsRunsLiveStopsThemAndKeepsItsDoorShut() throws {
        try #require(FileManager.default.isExecutableFile(atPath: AWSEndpointTests.python.path), "no \(AWSEndpointTests.python.path): run scripts/setup.sh")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"), "no chromedriver: run scripts/setup.sh")
        let served = try AWSEndpointTests.ServedEndpoint()
        defer { served.stop() }
        // Screenshots stay beside the build, where README's pictures are taken from.
        let shots = Fixtures.repositoryRoot.appendingPathComponent(".build/console-screenshots")
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        var served2 = served
        served2.environment["SHOTS"] = shots.path
        try served2.runSuite("console_test.py", tests: 8, timeout: 600)
        for page in ["execution", "execution-running", "experiments", "cluster", "cost", "map", "token"] {
            #expect(FileManager.default.fileExists(atPath: shots.appendingPathComponent(page + ".png").path), "no screenshot of \(page)")
        }
    }
}
