import Foundation
import GRDB

/// Instance usage summed by period, group and instance type — what cost
/// reports are made of. One SQL aggregate, so a million instances stay fast.
public struct UsageQuery: Sendable {
    public enum Granularity: String, Sendable, CaseIterable {
        case daily, monthly
    }

    public enum Grouping: Sendable, Equatable {
        case tag(String)
        case pipeline
        case step
        case instanceType
    }

    /// Start inclusive, end exclusive, as Cost Explorer's TimePeriod.
    public var from: Date
    public var to: Date
    public var granularity: Granularity
    public var filter: (key: String, value: String)?
    public var groupBy: Grouping?
    /// USD per instance-hour by instance type. Each instance's cost is rounded to
    /// a whole micro-dollar before summing, so any grouping adds up exactly.
    public var pricesPerHour: [String: Double] = [:]

    public init(from: Date, to: Date, granularity: Granularity, filter: (key: String, value: String)? = nil, groupBy: Grouping? = nil) {
        self.from = from
        self.to = to
        self.granularity = granularity
        self.filter = filter
        self.groupBy = groupBy
    }

    public struct Row: Sendable, Equatable {
        /// `2026-11-25` (daily) or `2026-11` (monthly), UTC.
        public let period: String
        /// Nil without grouping; "" for instances without the grouping tag.
        public let group: String?
        public let instanceType: String
        public let instanceSeconds: Double
        public let cpuSeconds: Double
        public let instances: Int
        public let costMicros: Int
        /// False when the instance type has no price (its cost counts as 0).
        public let priced: Bool
    }
}

extension MetadataStore {
    /// Usage of finished instances that started within the query's period (by
    /// UTC day), read from the usage rollup. Each rollup row's cost is rounded to
    /// a whole micro-dollar once, so every grouping of the same rows adds up to
    /// the same total.
    public func usage(_ query: UsageQuery) throws -> [UsageQuery.Row] {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        var arguments: [any DatabaseValueConvertible] = []
        for (type, price) in query.pricesPerHour.sorted(by: { $0.key < $1.key }) {
            arguments.append(type)
            arguments.append(price)
        }
        let priceRows = query.pricesPerHour.isEmpty ? "SELECT NULL, NULL WHERE 0" : "VALUES " + Array(repeating: "(?, ?)", count: query.pricesPerHour.count).joined(separator: ", ")
        arguments.append(formatter.string(from: query.from))
        arguments.append(formatter.string(from: query.to))
        let sql = """
            WITH price(type, perHour) AS (\(priceRows))
            SELECT r.day, r.pipelineName, r.stepName, r.instanceType, r.tagset, r.instances, r.wallSeconds, r.cpuSeconds,
                   CAST(ROUND(r.wallSeconds * COALESCE(p.perHour, 0) * 1000000.0 / 3600.0) AS INTEGER) AS micros,
                   p.perHour IS NOT NULL AS priced
            FROM usage_rollup r LEFT JOIN price p ON p.type = r.instanceType
            WHERE r.day >= ? AND r.day < ?
            """
        struct Key: Hashable {
            let period: String
            let group: String?
            let instanceType: String
        }
        var sums: [Key: (seconds: Double, cpu: Double, instances: Int, micros: Int, priced: Bool)] = [:]
        try pool.read { db in
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments))
            while let row = try cursor.next() {
                let tagset: String = row["tagset"]
                let tags = Self.tags(in: tagset)
                if let filter = query.filter, tags[filter.key] != filter.value { continue }
                let day: String = row["day"]
                let type: String = row["instanceType"]
                let group: String? = switch query.groupBy {
                case nil: nil
                case let .tag(key)?: tags[key] ?? ""
                case .pipeline?: row["pipelineName"] as String
                case .step?: row["stepName"] as String
                case .instanceType?: type
                }
                let key = Key(period: query.granularity == .daily ? day : String(day.prefix(7)), group: group, instanceType: type)
                var sum = sums[key] ?? (0, 0, 0, 0, true)
                sum.seconds += row["wallSeconds"]
                sum.cpu += row["cpuSeconds"]
                sum.instances += row["instances"] as Int
                sum.micros += row["micros"] as Int
                sum.priced = sum.priced && (row["priced"] as Bool)
                sums[key] = sum
            }
        }
        return sums.map { key, sum in
            UsageQuery.Row(
                period: key.period, group: key.group, instanceType: key.instanceType, instanceSeconds: sum.seconds,
                cpuSeconds: sum.cpu, instances: sum.instances, costMicros: sum.micros, priced: sum.priced
            )
        }.sorted { ($0.period, $0.group ?? "", $0.instanceType) < ($1.period, $1.group ?? "", $1.instanceType) }
    }

    /// Tags from the rollup's canonical text (key RS value, tags separated by US).
    static func tags(in tagset: String) -> [String: String] {
        var tags: [String: String] = [:]
        for pair in tagset.split(separator: "\u{1F}") {
            let parts = pair.split(separator: "\u{1E}", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { tags[String(parts[0])] = String(parts[1]) }
        }
        return tags
    }
}
