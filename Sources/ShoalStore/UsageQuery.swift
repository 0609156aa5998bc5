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
    /// Usage of finished instances that started within the query's period.
    public func usage(_ query: UsageQuery) throws -> [UsageQuery.Row] {
        let period = query.granularity == .daily ? "strftime('%Y-%m-%d', i.startedAt)" : "strftime('%Y-%m', i.startedAt)"
        var joins = ""
        var arguments: [any DatabaseValueConvertible] = []
        let group: String
        switch query.groupBy {
        case nil: group = "NULL"
        case let .tag(key)?:
            joins += " LEFT JOIN instance_tag g ON g.instanceId = i.id AND g.key = ?"
            arguments.append(key)
            group = "COALESCE(g.value, '')"
        case .pipeline?:
            joins += " JOIN execution e ON e.id = i.executionId"
            group = "e.pipelineName"
        case .step?: group = "i.stepName"
        case .instanceType?: group = "COALESCE(i.instanceType, '')"
        }
        if let filter = query.filter {
            joins += " JOIN instance_tag f ON f.instanceId = i.id AND f.key = ? AND f.value = ?"
            arguments.append(filter.key)
            arguments.append(filter.value)
        }
        arguments.append(query.from)
        arguments.append(query.to)
        var prices: [any DatabaseValueConvertible] = []
        for (type, price) in query.pricesPerHour.sorted(by: { $0.key < $1.key }) {
            prices.append(type)
            prices.append(price)
        }
        let priceRows = query.pricesPerHour.isEmpty ? "SELECT NULL, NULL WHERE 0" : "VALUES " + Array(repeating: "(?, ?)", count: query.pricesPerHour.count).joined(separator: ", ")
        let sql = """
            WITH price(type, perHour) AS (\(priceRows))
            SELECT \(period) AS period, \(group) AS grp, COALESCE(i.instanceType, '') AS type,
                   SUM(COALESCE(i.wallSeconds, 0)) AS seconds, SUM(COALESCE(i.cpuSeconds, 0)) AS cpu, COUNT(*) AS n,
                   SUM(CAST(ROUND(COALESCE(i.wallSeconds, 0) * COALESCE(p.perHour, 0) * 1000000.0 / 3600.0) AS INTEGER)) AS micros,
                   MAX(p.perHour IS NOT NULL) AS priced
            FROM instance i\(joins)
            LEFT JOIN price p ON p.type = i.instanceType
            WHERE i.startedAt >= ? AND i.startedAt < ? AND i.endedAt IS NOT NULL
            GROUP BY period, grp, type
            ORDER BY period, grp, type
            """
        arguments = prices + arguments
        return try pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                UsageQuery.Row(
                    period: row["period"], group: row["grp"], instanceType: row["type"],
                    instanceSeconds: row["seconds"], cpuSeconds: row["cpu"], instances: row["n"],
                    costMicros: row["micros"], priced: row["priced"]
                )
            }
        }
    }
}
