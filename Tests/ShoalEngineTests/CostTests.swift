import Foundation
import ShoalDefinition
import ShoalEngine
import ShoalStore
import ShoalRuntime
import Testing

@Suite struct CostTests {
    /// A metadata store with `count` finished instances spread over types, days, steps and tags.
    static func store(instances count: Int) throws -> MetadataStore {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-cost-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try MetadataStore(path: folder.appendingPathComponent("shoal.sqlite").path)
        let start = Date(timeIntervalSince1970: 1_764_000_000) // 2025-11-24
        for pipeline in ["P1", "P2"] {
            try store.insert(ExecutionRecord(id: "e-\(pipeline)", pipelineName: pipeline, status: .succeeded, definition: "{}", parameters: "{}", startedAt: start), steps: [])
        }
        let types = ["ml.m5.large", "ml.m5.xlarge", "ml.c5.2xlarge", "ml.unknown"]
        for index in 0..<count {
            var instance = InstanceRecord(executionId: index % 3 == 0 ? "e-P1" : "e-P2", stepName: "S\(index % 4)", instance: index, attempt: 1, status: .completed)
            instance.startedAt = start.addingTimeInterval(Double(index % 5) * 86_400 + Double(index))
            instance.endedAt = instance.startedAt!.addingTimeInterval(100)
            instance.wallSeconds = 37.3 + Double(index % 7) * 13.7
            instance.cpuSeconds = 11.1 * Double(index % 3)
            instance.instanceType = types[index % types.count]
            let tags: [(key: String, value: String)] = index % 4 == 3 ? [] : [("team", ["ml", "data", "ops"][index % 3])]
            try store.insert(&instance, tags: tags)
        }
        return store
    }

    @Test func groupsAddUpToTheUngroupedTotalToTheCent() throws {
        let store = try Self.store(instances: 997)
        let from = Date(timeIntervalSince1970: 1_763_000_000)
        let to = Date(timeIntervalSince1970: 1_766_000_000)
        let total = try CostReport.make(UsageQuery(from: from, to: to, granularity: .daily), prices: .default, store: store).total
        #expect(total.instances == 997)
        #expect(total.costMicros > 0)
        for grouping in [UsageQuery.Grouping.tag("team"), .pipeline, .step, .instanceType] {
            for granularity in UsageQuery.Granularity.allCases {
                let report = try CostReport.make(UsageQuery(from: from, to: to, granularity: granularity, groupBy: grouping), prices: .default, store: store)
                let summed = report.periods.flatMap(\.groups).reduce(0) { $0 + $1.amounts.costMicros }
                #expect(summed == total.costMicros, "\(grouping) \(granularity)")
                #expect(report.periods.flatMap(\.groups).reduce(0) { $0 + $1.amounts.instances } == 997)
            }
        }
        let byType = try CostReport.make(UsageQuery(from: from, to: to, granularity: .monthly, groupBy: .instanceType), prices: .default, store: store)
        #expect(byType.unpriced == ["ml.unknown"])
        #expect(byType.periods.flatMap(\.groups).first { $0.key == "ml.unknown" }?.amounts.costMicros == 0)
    }

    @Test func costIsInstanceHoursTimesTheHourlyPrice() throws {
        let store = try Self.store(instances: 8)
        let query = UsageQuery(
            from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 2_000_000_000), granularity: .monthly,
            filter: ("team", "ml"), groupBy: .instanceType
        )
        // Indices 0 and 6 carry team=ml: ml.m5.large (37.3 s) and ml.c5.2xlarge (37.3 + 6 × 13.7 s).
        let report = try CostReport.make(query, prices: .default, store: store)
        let groups = Dictionary(uniqueKeysWithValues: report.periods.flatMap(\.groups).map { ($0.key, $0.amounts.costMicros) })
        let small: Double = 37.3 / 3600 * 0.115 * 1_000_000
        let large: Double = (37.3 + 6 * 13.7) / 3600 * 0.408 * 1_000_000
        #expect(groups["ml.m5.large"] == Int(small.rounded()))
        #expect(groups["ml.c5.2xlarge"] == Int(large.rounded()))
    }

    @Test func malformedPriceFileNamesLineAndColumnOrPath() throws {
        let folder = FileManager.default.temporaryDirectory
        let broken = folder.appendingPathComponent("prices-\(UUID().uuidString).json")
        try Data("{\n  \"ml.m5.large\": 0.1\n  \"ml.c5.large\": 0.2\n}".utf8).write(to: broken)
        do { _ = try PriceTable.load(broken.path); Issue.record("accepted") } catch { #expect(error.description.contains("line 3, column 3")) }
        let wrong = folder.appendingPathComponent("prices-\(UUID().uuidString).json")
        try Data(#"{"ml.m5.large": "cheap"}"#.utf8).write(to: wrong)
        do { _ = try PriceTable.load(wrong.path); Issue.record("accepted") } catch { #expect(error.description.contains("$['ml.m5.large'] must be a price per hour")) }
    }

    @Test func tagsOverTheLimitsAreRefused() {
        #expect(throws: Tags.Invalid.self) { try Tags.validate([(String(repeating: "k", count: 129), "v")], source: "--tags") }
        #expect(throws: Tags.Invalid.self) { try Tags.validate([("k", String(repeating: "v", count: 257))], source: "--tags") }
        #expect(throws: Tags.Invalid.self) { try Tags.validate((0..<51).map { ("k\($0)", "v") }, source: "--tags") }
        #expect(throws: Tags.Invalid.self) { try Tags.validate([("aws:cost", "v")], source: "--tags") }
        #expect(Tags.merge([("a", "1"), ("b", "2")], [("b", "3")]).map { "\($0.key)=\($0.value)" } == ["a=1", "b=3"])
    }
}

@Suite struct InstanceLimitTableTests {
    @Test func aTypesMemoryComesFromTheTableAndAFileOverridesOrAddsTypes() throws {
        #expect(InstanceLimitTable.default.limits(for: "ml.m5.xlarge").memoryBytes == 16 << 30)
        #expect(InstanceLimitTable.default.limits(for: "ml.unknown").memoryBytes == nil)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("limits-\(UUID().uuidString.prefix(8)).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(#"{"ml.m5.xlarge": {"Processes": 100}, "ml.custom": {"MemoryMiB": 512, "OpenFiles": 128}}"#.utf8).write(to: file)
        let table = try InstanceLimitTable.default.overridden(by: file.path)
        #expect(table.limits(for: "ml.m5.xlarge") == JobLimits(memoryBytes: 16 << 30, processes: 100, openFiles: 65_536))
        #expect(table.limits(for: "ml.custom") == JobLimits(memoryBytes: 512 << 20, processes: 4096, openFiles: 128))
        try Data(#"{"ml.custom": {"Memory": 512}}"#.utf8).write(to: file)
        let error = #expect(throws: InstanceLimitTable.Invalid.self) { try InstanceLimitTable.default.overridden(by: file.path) }
        #expect(error?.description == "\(file.path): $['ml.custom'].Memory is not a limit; they are MemoryMiB, Processes, OpenFiles")
    }
}

@Suite struct ISODurationTests {
    @Test(arguments: [("PT1H", 3_600.0), ("p30d", 2_592_000), ("P1DT12H", 129_600), ("PT0.5S", 0.5), ("P1W", 604_800), ("P1Y2M", 36_720_000), ("PT1M", 60), ("30d", 2_592_000), ("T12H", 43_200), ("30dT5h", 2_610_000), ("T16m", 960)])
    func durationsAreRead(text: String, seconds: Double) {
        #expect(ISODuration.seconds(text) == seconds)
    }

    @Test(arguments: ["", "P", "PT", "1H", "PT1D", "P1H", "PTT1H", "P1", "P1DT", "PxD", "1 hour"])
    func malformedDurationsAreRefused(text: String) {
        #expect(ISODuration.seconds(text) == nil)
    }
}
