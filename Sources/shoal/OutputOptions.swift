import ArgumentParser
import Foundation
import ShoalRuntime
import ShoalEngine

/// `--output`, shared by every command that prints a result.
struct OutputOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .long, help: "How to print the result: text for people, json for programs.")
    var output: Format = .text
}

/// Writes to standard error, where every problem goes.
func printError(_ text: String) {
    StandardStreams.error((text + "\n"))
}

/// Ends the process once the output is written, without freeing what `value`
/// holds: tearing down the model of a large definition object by object costs
/// more than everything the command did with it.
func exitSkippingTeardown(_ status: Int32, keeping value: Any) -> Never {
    withExtendedLifetime(value) {
        fflush(nil)
        Foundation.exit(status)
    }
}

/// Pretty JSON with sorted keys, for `--output json`.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    // ISO 8601 with milliseconds, as Shoal renders every time (spec §2.2).
    encoder.dateEncodingStrategy = .custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(Identifiers.timestamp(date))
    }
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// `--output table|json|csv`, for reports that are tables.
struct TableOutputOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, csv
    }

    @Option(name: .long, help: "table for people, json or csv for programs.")
    var output: Format = .table

    /// Prints rows as a table or CSV, or `json` as JSON.
    func emit(header: [String], rows: [[String]], json: some Encodable) throws {
        switch output {
        case .table: print(Formatting.table(header, rows))
        case .json: try printJSON(json)
        case .csv:
            func field(_ text: String) -> String {
                text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
            }
            print(([header] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n"))
        }
    }
}
