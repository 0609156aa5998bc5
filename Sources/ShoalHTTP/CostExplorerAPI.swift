import AWSSignature
import Foundation
import ShoalEngine
import ShoalStore

/// Cost Explorer's GetCostAndUsage (JSON 1.1, `AWSInsightsIndexService.`):
/// the same report as `shoal cost`, asked for in Cost Explorer's terms.
struct CostExplorerAPI: Sendable {
    let home: ShoalHome
    let prices: PriceTable

    func handle(_ operation: String, _ input: [String: Any]) throws -> [String: Any] {
        guard operation == "GetCostAndUsage" else {
            throw AWSError(code: "UnknownOperationException", status: 400, message: "Shoal's Cost Explorer serves GetCostAndUsage only, not \(operation.prefix(64))")
        }
        let (query, metrics) = try Self.query(input)
        let report = try CostReport.make(query, prices: prices, store: home.metadata)
        let data = try JSONEncoder().encode(CostAndUsage(report, query: query, metrics: metrics))
        var answer = (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        answer["GroupDefinitions"] = (input["GroupBy"] as? [[String: Any]]) ?? []
        answer["DimensionValueAttributes"] = [Any]()
        return answer
    }

    /// The request in Shoal's terms; what Shoal cannot answer is refused naming the field.
    static func query(_ input: [String: Any]) throws -> (UsageQuery, [String]) {
        let period = input["TimePeriod"] as? [String: Any] ?? [:]
        guard let startText = period["Start"] as? String, let endText = period["End"] as? String,
              let start = CostAndUsage.day(startText), let end = CostAndUsage.day(endText)
        else { throw AWSError.validation("TimePeriod needs Start and End as YYYY-MM-DD") }
        guard end > start else { throw AWSError.validation("TimePeriod.End (\(endText)) must be after TimePeriod.Start (\(startText))") }
        let granularity: UsageQuery.Granularity
        switch (input["Granularity"] as? String ?? "").uppercased() {
        case "DAILY": granularity = .daily
        case "MONTHLY": granularity = .monthly
        case let other: throw AWSError.validation("Granularity must be DAILY or MONTHLY (Shoal keeps no hourly figures); got '\(other.prefix(32))'")
        }
        let metrics = input["Metrics"] as? [String] ?? []
        guard !metrics.isEmpty else { throw AWSError.validation("Metrics is required") }
        for metric in metrics where !CostAndUsage.knownMetrics.contains(metric) {
            throw AWSError.validation("Metrics: '\(metric.prefix(64))' is not one Shoal gives (\(CostAndUsage.knownMetrics.sorted().joined(separator: ", ")))")
        }
        var query = UsageQuery(from: start, to: end, granularity: granularity)
        let groups = input["GroupBy"] as? [[String: Any]] ?? []
        guard groups.count <= 1 else { throw AWSError.validation("GroupBy: Shoal groups by one key at a time") }
        if let group = groups.first {
            let key = group["Key"] as? String ?? ""
            switch ((group["Type"] as? String ?? "").uppercased(), key.uppercased()) {
            case ("TAG", _) where !key.isEmpty: query.groupBy = .tag(key)
            case ("DIMENSION", "INSTANCE_TYPE"): query.groupBy = .instanceType
            case ("DIMENSION", "PIPELINE"): query.groupBy = .pipeline
            case ("DIMENSION", "STEP"): query.groupBy = .step
            default:
                throw AWSError.validation("GroupBy[0]: Shoal groups by TAG KEY, or DIMENSION INSTANCE_TYPE, PIPELINE or STEP; got \(group["Type"] ?? "?") \(key.prefix(64))")
            }
        }
        if let filter = input["Filter"] as? [String: Any] {
            guard filter.count == 1, let tags = filter["Tags"] as? [String: Any], let key = tags["Key"] as? String,
                  let values = tags["Values"] as? [String], values.count == 1,
                  (tags["MatchOptions"] as? [String] ?? ["EQUALS"]) == ["EQUALS"]
            else { throw AWSError.validation("Filter: Shoal filters by one tag equal to one value ({\"Tags\": {\"Key\", \"Values\": [v]}})") }
            query.filter = (key, values[0])
        }
        return (query, metrics)
    }
}
