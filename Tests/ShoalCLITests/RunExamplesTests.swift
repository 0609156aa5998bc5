import Foundation
import ShoalTestSupport
import Testing

/// The bundled examples, run end to end with the built binary: real worker
/// processes, real sandboxes, a real SQLite file.
@Suite(.serialized) struct RunExamplesTests {
    @Test func abaloneRunsWithTwoShardedInstancesAndTakesTheIfBranch() throws {
        let home = try TemporaryHome()
        let outcome = try home.example("abalone")
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        let id = try home.latestExecutionId()
        let records = try home.latestSteps()
        #expect(records.map { $0["status"] as? String } == ["Succeeded", "Succeeded", "Succeeded", "NotRun"])
        let lambda = try #require(records[0]["properties"] as? [String: Any])
        #expect((lambda["OutputParameters"] as? [String: Any])?["output1"] as? String == "foo-foo1")
        // The Lambda output reached the processing step's arguments, on both hosts.
        let logs = try home.shoal(["logs", id, "AbaloneProcess"])
        #expect(logs.stdout.contains("algo-1: input args 'foo-foo1'"))
        #expect(logs.stdout.contains("algo-2: input args 'foo-foo1'"))
        // One CSV, two instances: one host gets it, the other an empty folder.
        #expect(logs.stdout.contains("algo-1: 4177 rows") != logs.stdout.contains("algo-2: 4177 rows"))
        let listing = try home.shoal(["ls", "s3://my-bucket/AbalonePipeline/\(id)/AbaloneProcess/output/evaluation/"])
        #expect(listing.stdout.contains("evaluation.json"))
    }

    @Test func abaloneCostIsReportedByItsCostTag() throws {
        let home = try TemporaryHome()
        #expect(try home.example("abalone", ["--tags", "team=ml"]).status == 0)
        let report = try #require(try home.json(["cost", "--group-by", "tag:pipeline-cost-tag"]) as? [String: Any])
        let results = try #require(report["ResultsByTime"] as? [[String: Any]])
        let groups = results.flatMap { ($0["Groups"] as? [[String: Any]]) ?? [] }
        let keys = groups.compactMap { ($0["Keys"] as? [String])?.first }
        #expect(keys.contains("pipeline-cost-tag$abalone"), "the processing step's tag")
        let table = try home.shoal(["cost", "--group-by", "tag:team"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("ml"))
        let refused = try home.shoal(["cost", "--from", "2026-12-01", "--to", "2026-11-01"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--to (2026-11-01) must be after --from (2026-12-01)"))
        let longTag = try home.shoal(["run", "x.json", "--tags", "k=" + String(repeating: "v", count: 300)])
        #expect(longTag.status != 0)
        #expect(longTag.stderr.contains("at most 256 are allowed"))
    }

    @Test func abaloneTakesTheElseBranchWhenTheThresholdIsLow() throws {
        let home = try TemporaryHome()
        let outcome = try home.example("abalone", ["--param", "MseThreshold=0.5"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("Failed: MSE above 0.5"))
        let id = try home.latestExecutionId()
        let execution = try #require(try home.json(["executions", "describe", id]) as? [String: Any])
        #expect(execution["status"] as? String == "Failed")
        #expect(execution["failureReason"] as? String == "MSE above 0.5")
        #expect((execution["parameters"] as? [String: Any])?["MseThreshold"] as? Double == 0.5)
    }

    @Test func itemsAreDealtAcrossFourInstancesEachDoneOnce() throws {
        let home = try TemporaryHome()
        let outcome = try home.example("items")
        #expect(outcome.status == 0, "\(outcome.stdout)\n\(outcome.stderr)")
        let id = try home.latestExecutionId()
        let objects = try #require(try home.json(["ls", "s3://my-bucket/items/\(id)/results/"]) as? [[String: Any]])
        #expect(objects.count == 20)
        var hosts: Set<String> = []
        for object in objects {
            let uri = try #require(object["uri"] as? String)
            let local = home.url.appendingPathComponent("objects/" + uri.dropFirst("s3://".count))
            let content = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: local)) as? [String: String])
            #expect(uri.hasSuffix("/\(content["item"]!).json"))
            hosts.insert(content["host"]!)
        }
        #expect(hosts == ["algo-1", "algo-2", "algo-3", "algo-4"])
    }
}
