import ArgumentParser
import Foundation
import ShoalEngine
import ShoalStore

/// `--home`, shared by every command that reads or writes the store.
struct HomeOptions: ParsableArguments {
    @Option(name: .long, help: "Shoal's home folder (default: $SHOAL_HOME, else ~/.shoal).")
    var home: String?

    func open() throws -> ShoalHome {
        let root = ShoalHome.resolve(home)
        do {
            return try ShoalHome(root: root)
        } catch {
            throw CommandFailure("cannot open the Shoal home at \(root.path): \(error)")
        }
    }
}

/// An error printed once, on stderr, by the command line; exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Formats times and durations for tables.
enum Formatting {
    /// One formatter for every row: making a DateFormatter is expensive.
    private static let timeFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter
    }()

    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        return timeFormatter.string(from: date)
    }

    /// ISO 8601 UTC with milliseconds, as every JSON listing prints times.
    static func iso(_ date: Date) -> String { Identifiers.timestamp(date) }

    static func duration(from start: Date?, to end: Date?) -> String {
        guard let start else { return "-" }
        return String(format: "%.1fs", (end ?? Date()).timeIntervalSince(start))
    }

    /// Left-aligned columns.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in all {
            var line = ""
            for (column, cell) in row.enumerated() {
                line += cell
                if column < row.count - 1 { line += String(repeating: " ", count: widths[column] - cell.count + 2) }
            }
            while line.last == " " { line.removeLast() }
            if !text.isEmpty { text += "\n" }
            text += line
        }
        return text
    }
}
