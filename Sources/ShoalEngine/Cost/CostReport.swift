import Foundation
import ShoalStore

/// Cost and usage by period and group, like Cost Explorer's GetCostAndUsage:
/// blended cost, usage quantity (instance-hours) and CPU-hours. Amounts are
/// kept in whole micro-dollars, so the groups add up to the total exactly.
public struct CostReport: Sendable {
    public struct Amounts: Sendable, Equatable {
        public var costMicros: Int = 0
        public var instanceSeconds: Double = 0
        public var cpuSeconds: Double = 0
        public var instances: Int = 0

        public var cost: Decimal { Decimal(costMicros) / 1_000_000 }
        public var instanceHours: Double { instanceSeconds / 3600 }
        public var cpuHours: Double { cpuSeconds / 3600 }

        mutating func add(_ other: Amounts) {
            costMicros += other.costMicros
            instanceSeconds += other.instanceSeconds
            cpuSeconds += other.cpuSeconds
            instances += other.instances
        }
    }

    public struct Period: Sendable {
        public let period: String
        public var total = Amounts()
        /// Group key → amounts, in key order; empty without grouping.
        public var groups: [(key: String, amounts: Amounts)] = []
    }

    public let periods: [Period]
    public var total: Amounts { periods.reduce(into: Amounts()) { $0.add($1.total) } }
    /// Instance types that had usage but no price (counted at 0).
    public let unpriced: [String]

    /// Runs the usage query with the price table and sums its rows.
    public static func make(_ query: UsageQuery, prices: PriceTable, store: MetadataStore) throws -> CostReport {
        var query = query
        query.pricesPerHour = prices.perHour
        return CostReport(rows: try store.usage(query))
    }

    /// Rows already priced by the query.
    public init(rows: [UsageQuery.Row]) {
        var byPeriod: [String: Period] = [:]
        var unpriced = Set<String>()
        for row in rows {
            if !row.priced && row.instanceSeconds > 0 { unpriced.insert(row.instanceType.isEmpty ? "(none)" : row.instanceType) }
            let amounts = Amounts(costMicros: row.costMicros, instanceSeconds: row.instanceSeconds, cpuSeconds: row.cpuSeconds, instances: row.instances)
            var period = byPeriod[row.period] ?? Period(period: row.period)
            period.total.add(amounts)
            if let group = row.group {
                if let index = period.groups.firstIndex(where: { $0.key == group }) { period.groups[index].amounts.add(amounts) } else { period.groups.append((group, amounts)) }
            }
            byPeriod[row.period] = period
        }
        periods = byPeriod.keys.sorted().map { key in
            var period = byPeriod[key]!
            period.groups.sort { $0.key < $1.key }
            return period
        }
        self.unpriced = unpriced.sorted()
    }
}
