import ArgumentParser
import Foundation
import ShoalEngine
import ShoalStore

struct CostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Cost and usage of job instances, like Cost Explorer's GetCostAndUsage.",
        discussion: """
            Cost is instance-hours (each instance's wall time) times the hourly price of
            its instance type (--prices FILE, a JSON object of type → USD per hour;
            default: a few on-demand ml.* prices). Periods are UTC; --to is exclusive.

            Examples:
              shoal cost --group-by tag:pipeline-cost-tag
              shoal cost --from 2026-11-01 --to 2026-12-01 --granularity daily --filter tag:team=ml --output csv
            """
    )

    @Option(help: "First day, YYYY-MM-DD (default: the first of this month).") var from: String?
    @Option(help: "Day after the last, YYYY-MM-DD (default: tomorrow).") var to: String?
    @Option(help: "daily or monthly.") var granularity: UsageQuery.Granularity = .monthly
    @Option(help: "Only instances with this tag, tag:KEY=VALUE.") var filter: String?
    @Option(help: "tag:KEY, pipeline, step or instance-type.") var groupBy: String?
    @Option(help: "A price table (JSON: instance type → USD per hour).") var prices: String?
    @OptionGroup var output: TableOutputOptions
    @OptionGroup var home: HomeOptions

    func run() throws {
        let query = try makeQuery()
        let table: PriceTable
        do { table = try prices.map(PriceTable.load) ?? .default } catch { throw CommandFailure(error.description) }
        let report = try CostReport.make(query, prices: table, store: try home.open().metadata)
        try output.emit(
            header: ["PERIOD", "GROUP", "COST (USD)", "INSTANCE-HOURS", "CPU-HOURS", "INSTANCES"],
            rows: rows(report, grouped: query.groupBy != nil), json: CostAndUsage(report, query: query)
        )
        if !report.unpriced.isEmpty { printError("no price for \(report.unpriced.joined(separator: ", ")); counted at 0 (add them with --prices)") }
    }

    private func makeQuery() throws -> UsageQuery {
        let calendar = Self.utc
        let today = calendar.startOfDay(for: Date())
        let start = try from.map { try Self.day($0, "--from") } ?? calendar.date(from: calendar.dateComponents([.year, .month], from: today))!
        let end = try to.map { try Self.day($0, "--to") } ?? calendar.date(byAdding: .day, value: 1, to: today)!
        guard end > start else { throw CommandFailure("--to (\(to ?? "tomorrow")) must be after --from (\(from ?? "the first of this month")).") }
        var query = UsageQuery(from: start, to: end, granularity: granularity)
        if let filter {
            guard filter.hasPrefix("tag:"), let equals = filter.firstIndex(of: "="), filter.index(filter.startIndex, offsetBy: 4) < equals else {
                throw CommandFailure("--filter takes tag:KEY=VALUE; got '\(filter)'.")
            }
            query.filter = (String(filter[filter.index(filter.startIndex, offsetBy: 4)..<equals]), String(filter[filter.index(after: equals)...]))
        }
        if let groupBy {
            switch groupBy {
            case "pipeline": query.groupBy = .pipeline
            case "step": query.groupBy = .step
            case "instance-type": query.groupBy = .instanceType
            case let tag where tag.hasPrefix("tag:") && tag.count > 4: query.groupBy = .tag(String(tag.dropFirst(4)))
            default: throw CommandFailure("--group-by takes tag:KEY, pipeline, step or instance-type; got '\(groupBy)'.")
            }
        }
        return query
    }

    static let utc = CostAndUsage.utc

    static func day(_ text: String, _ option: String) throws -> Date {
        guard let date = CostAndUsage.day(text) else { throw CommandFailure("\(option) takes a day as YYYY-MM-DD; got '\(text)'.") }
        return date
    }

    private func rows(_ report: CostReport, grouped: Bool) -> [[String]] {
        var rows: [[String]] = []
        for period in report.periods {
            let lines = grouped ? period.groups.map { ($0.key.isEmpty ? "(untagged)" : $0.key, $0.amounts) } : [("", period.total)]
            for (group, amounts) in lines {
                rows.append([period.period, group, money(amounts), hours(amounts.instanceHours), hours(amounts.cpuHours), "\(amounts.instances)"])
            }
        }
        let total = report.total
        rows.append(["TOTAL", "", money(total), hours(total.instanceHours), hours(total.cpuHours), "\(total.instances)"])
        return rows
    }
}

func money(_ amounts: CostReport.Amounts) -> String {
    String(format: "%.6f", NSDecimalNumber(decimal: amounts.cost).doubleValue)
}

func hours(_ value: Double) -> String { String(format: "%.4f", value) }

extension UsageQuery.Granularity: ExpressibleByArgument {}
