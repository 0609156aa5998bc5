import ArgumentParser
import Foundation
import ShoalDefinition

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check pipeline definitions and report every problem with its JSON path.",
        discussion: """
            Exits 0 when every file is valid and 1 when any is not. Problems go to
            standard error as `FILE: $.json.path: message [code]`; warnings (such as a
            step type Shoal does not run yet) do not make a file invalid.

            Examples:
              shoal validate pipeline.json
              shoal validate a.json b.json --output json
              python3 make_pipeline.py | shoal validate -
            """
    )

    @Argument(help: "Definition files to check; - reads standard input.")
    var files: [String]

    @OptionGroup var options: OutputOptions

    struct FileReport: Encodable {
        let file: String
        let valid: Bool
        let steps: Int?
        let parameters: Int?
        let diagnostics: [Diagnostic]
    }

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("Name at least one definition file (or - for standard input).") }
    }

    func run() throws {
        var reports: [FileReport] = []
        var checks: [DefinitionCheck] = []
        for file in files {
            let check: DefinitionCheck
            do {
                check = DefinitionCheck.check(data: try DefinitionFile.read(file))
            } catch {
                let diagnostic = Diagnostic(.error, code: "unreadable", path: .root, message: "\(error)")
                reports.append(FileReport(file: file, valid: false, steps: nil, parameters: nil, diagnostics: [diagnostic]))
                continue
            }
            checks.append(check)
            reports.append(FileReport(
                file: file, valid: check.isValid, steps: check.graph?.nodes.count,
                parameters: check.definition?.parameters?.count, diagnostics: check.diagnostics
            ))
        }
        switch options.output {
        case .json:
            try printJSON(reports)
        case .text:
            for report in reports {
                for diagnostic in report.diagnostics {
                    printError(diagnostic.line(source: report.file))
                }
                if report.valid {
                    print("\(report.file): valid (\(report.steps ?? 0) steps, \(report.parameters ?? 0) parameters)")
                }
            }
        }
        exitSkippingTeardown(reports.contains(where: { !$0.valid }) ? 1 : 0, keeping: checks)
    }
}
