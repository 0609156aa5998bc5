import Foundation
import ShoalStore

/// A cost report in the shape of Cost Explorer's GetCostAndUsage response:
/// what `shoal cost --output json` prints and what the endpoint answers.
public struct CostAndUsage: Encodable, Sendable {
    public struct Metric: Encodable, Sendable {
        let Amount: String
        let Unit: String
    }

    public struct Group: Encodable, Sendable {
        let Keys: [String]
        let Metrics: [String: Metric]
    }

    public struct Result: Encodable, Sendable {
        let TimePeriod: [String: String]
        let Total: [String: Metric]
        let Groups: [Group]
        let Estimated: Bool
    }

    let ResultsByTime: [Result]
    let Total: [String: Metric]

    /// The metrics Shoal can give. Shoal has no discounts or credits, so the
    /// cost metrics are all the same figure; `CPUHours` is Shoal's own.
    public static let costMetrics: Set<String> = ["BlendedCost", "UnblendedCost", "AmortizedCost", "NetUnblendedCost", "NetAmortizedCost"]
    public static let knownMetrics = costMetrics.union(["UsageQuantity", "NormalizedUsageAmount", "CPUHours"])

    /// `metrics` are names from `knownMetrics`; a tag grouping's keys read `KEY$value`, as Cost Explorer writes them.
    public init(_ report: CostReport, query: UsageQuery, metrics: [String] = ["BlendedCost", "UsageQuantity", "CPUHours"]) {
        func amounts(_ amounts: CostReport.Amounts) -> [String: Metric] {
            var result: [String: Metric] = [:]
            for name in metrics {
                if Self.costMetrics.contains(name) {
                    result[name] = Metric(Amount: Self.exact(amounts.cost), Unit: "USD")
                } else if name == "CPUHours" {
                    result[name] = Metric(Amount: String(amounts.cpuHours), Unit: "Hrs")
                } else if Self.knownMetrics.contains(name) {
                    result[name] = Metric(Amount: String(amounts.instanceHours), Unit: "Hrs")
                }
            }
            return result
        }
        let prefix: String = switch query.groupBy {
        case let .tag(key)?: "\(key)$"
        default: ""
        }
        ResultsByTime = report.periods.map { period in
            Result(
                TimePeriod: Self.bounds(period.period, query: query), Total: amounts(period.total),
                Groups: period.groups.map { Group(Keys: [prefix + $0.key], Metrics: amounts($0.amounts)) }, Estimated: false
            )
        }
        Total = amounts(report.total)
    }

    /// Cost Explorer's days are UTC.
    public static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        return calendar
    }()

    /// `YYYY-MM-DD` as the start of that UTC day; nil for anything else.
    public static func day(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.calendar = utc
        formatter.timeZone = utc.timeZone
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.date(from: text)
    }

    /// A period key (`2026-11` or `2026-11-30`) as Cost Explorer's Start and
    /// End days (End exclusive), cut to the query's own bounds.
    static func bounds(_ period: String, query: UsageQuery) -> [String: String] {
        let calendar = utc
        let parts = period.split(separator: "-").compactMap { Int($0) }
        guard parts.count >= 2, let start = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts.count > 2 ? parts[2] : 1)),
              let end = calendar.date(byAdding: parts.count > 2 ? .day : .month, value: 1, to: start)
        else { return ["Start": period, "End": period] }
        func day(_ date: Date) -> String {
            let c = calendar.dateComponents([.year, .month, .day], from: date)
            return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        }
        return ["Start": day(max(start, query.from)), "End": day(min(end, query.to))]
    }

    /// Micro-dollar amounts as exact decimal text.
    static func exact(_ amount: Decimal) -> String {
        var value = amount
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 6, .plain)
        return NSDecimalNumber(decimal: rounded).stringValue
    }
}
