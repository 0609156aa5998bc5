import Foundation
import ShoalEngine
import ShoalStore

/// Cost by month, grouped by a tag (or pipeline, step, instance type), as a
/// stacked bar chart with the table under it. Prices are the default table, as
/// the endpoint's Cost Explorer uses.
struct CostPage {
    let home: ShoalHome

    func render(query: [String: String], now: Date = Date()) throws -> String {
        let months = min(max(query["months"].flatMap(Int.init) ?? 6, 1), 36)
        let by = query["by"] ?? "tag"
        let tagKey = (query["tag"] ?? "team").trimmingCharacters(in: .whitespaces)
        let grouping: UsageQuery.Grouping = switch by {
        case "pipeline": .pipeline
        case "step": .step
        case "instanceType": .instanceType
        default: .tag(tagKey.isEmpty ? "team" : tagKey)
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let thisMonth = calendar.date(from: calendar.dateComponents([.year, .month], from: now))!
        let from = calendar.date(byAdding: .month, value: -(months - 1), to: thisMonth)!
        let to = calendar.date(byAdding: .month, value: 1, to: thisMonth)!
        let report = try CostReport.make(UsageQuery(from: from, to: to, granularity: .monthly, groupBy: grouping), prices: .default, store: home.metadata)

        let groups = Array(Set(report.periods.flatMap { $0.groups.map(\.key) })).sorted()
        let periods = report.periods.map(\.period)
        let palette = ["#2f6fdf", "#e8793a", "#3aa76d", "#b04fc2", "#d6b52b", "#4fb6c2", "#c24f6b", "#7a8594"]
        let datasets: [[String: Any]] = groups.enumerated().map { index, group in
            let values = report.periods.map { period in
                (period.groups.first { $0.key == group }?.amounts.cost).map { NSDecimalNumber(decimal: $0).doubleValue } ?? 0
            }
            return ["label": group.isEmpty ? "(untagged)" : group, "data": values, "backgroundColor": palette[index % palette.count]]
        }
        let chartData = JSONText.object(["labels": periods, "datasets": datasets])
        let byOptions = [("tag", "tag"), ("pipeline", "pipeline"), ("step", "step"), ("instanceType", "instance type")].map { value, label in
            "<option value=\"\(value)\"\(value == by ? " selected" : "")>\(label)</option>"
        }.joined()
        var rows: [String] = []
        for period in report.periods {
            for group in period.groups {
                rows.append("""
                    <tr><td>\(period.period)</td><td>\(HTML.escape(group.key.isEmpty ? "(untagged)" : group.key))</td>
                    <td class="num">\(String(format: "%.2f", group.amounts.instanceHours))</td><td class="num">\(String(format: "%.2f", group.amounts.cpuHours))</td>
                    <td class="num">\(group.amounts.instances)</td><td class="num">$\(group.amounts.cost)</td></tr>
                    """)
            }
            rows.append("<tr><th>\(period.period)</th><th>total</th><th></th><th></th><th class=\"num\">\(period.total.instances)</th><th class=\"num\">$\(period.total.cost)</th></tr>")
        }
        let unpriced = report.unpriced.isEmpty ? "" : "<p class=\"muted\">No price for \(HTML.escape(report.unpriced.joined(separator: ", "))); counted at $0.</p>"
        let body = """
            <h1>Cost</h1>
            <form class="bar" method="get"><label>By <select name="by">\(byOptions)</select></label>
            <input name="tag" value="\(HTML.escape(tagKey))" placeholder="tag key"><label>Months <input name="months" type="number" min="1" max="36" value="\(months)"></label>
            <button type="submit">Show</button></form>
            \(ConsolePage.chart(id: "cost-chart", data: chartData, config: """
                { type: "bar", data: data, options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "USD" } } } } }
                """))
            <h2>Table</h2>\(ConsolePage.table(["Month (UTC)", "Group", "Instance-hours", "CPU-hours", "Instances", "Cost"], rows, id: "cost", empty: "no usage in these months"))
            \(unpriced)
            """
        return ConsolePage.render(title: "Cost", section: .cost, body: body, scripts: ["/console/static/chart.js"])
    }
}
