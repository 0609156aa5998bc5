import Foundation
import ShoalTestSupport
import Testing

/// Runs the built `shoal` binary end to end, as a user would.
@Suite struct ValidateCommandTests {
    static let abalone = Fixtures.sagemaker.appendingPathComponent("01_abalone_seed.json").path
    static let invalid = Fixtures.sagemaker.appendingPathComponent("invalid")

    @Test func validFileExitsZeroAndSaysSo() throws {
        let outcome = try ShoalProcess.run(["validate", Self.abalone])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("valid (4 steps, 3 parameters)"))
        #expect(outcome.stderr.isEmpty)
    }

    @Test func invalidFileExitsOneWithPathAndMessageOnStderr() throws {
        let file = Self.invalid.appendingPathComponent("missing_step_in_depends_on.json").path
        let outcome = try ShoalProcess.run(["validate", file])
        #expect(outcome.status == 1)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.contains("\(file): $.Steps[1].DependsOn[1]: Step 'Train' depends on 'Nope', which is not a step of this pipeline. [unknown-step]"))
    }

    @Test func oneBadFileAmongGoodOnesFailsTheRun() throws {
        let outcome = try ShoalProcess.run(["validate", Self.abalone, Self.invalid.appendingPathComponent("malformed.json").path])
        #expect(outcome.status == 1)
        #expect(outcome.stdout.contains("valid (4 steps"))
        #expect(outcome.stderr.contains("line 3, column 3"))
    }

    @Test func jsonOutputListsEveryDiagnostic() throws {
        let file = Self.invalid.appendingPathComponent("cycle_depends_on.json").path
        let outcome = try ShoalProcess.run(["validate", "--output", "json", file, Self.abalone])
        #expect(outcome.status == 1)
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]])
        #expect(reports.count == 2)
        #expect(reports[0]["valid"] as? Bool == false)
        let diagnostics = try #require(reports[0]["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.first?["code"] as? String == "dependency-cycle")
        #expect(diagnostics.first?["path"] as? String == "$.Steps")
        #expect(reports[1]["valid"] as? Bool == true)
    }

    @Test func readsStandardInput() throws {
        let outcome = try ShoalProcess.run(["validate", "-"], stdin: try Data(contentsOf: URL(fileURLWithPath: Self.abalone)))
        #expect(outcome.status == 0)
        #expect(outcome.stdout.hasPrefix("-: valid"))
    }

    @Test func missingFileIsAClearError() throws {
        let outcome = try ShoalProcess.run(["validate", "/nonexistent/pipeline.json"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("/nonexistent/pipeline.json: no such file"))
    }

    @Test func unsupportedStepTypesWarnButPass() throws {
        let outcome = try ShoalProcess.run(["validate", Fixtures.sagemaker.appendingPathComponent("20_tuning.json").path])
        #expect(outcome.status == 0)
        #expect(outcome.stderr.contains("warning: $.Steps[0].Type: Step 'Tune' has type Tuning, which Shoal does not run yet"))
    }

    @Test func versionAndHelp() throws {
        let version = try ShoalProcess.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        let help = try ShoalProcess.run(["validate", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("Examples:"))
        let unknown = try ShoalProcess.run(["frobnicate"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("frobnicate"))
    }
}

@Suite struct GraphCommandTests {
    static let abalone = ValidateCommandTests.abalone

    @Test func dotShowsStepsAndTheElseBranch() throws {
        let outcome = try ShoalProcess.run(["graph", Self.abalone, "--format", "dot"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.hasPrefix("digraph \"01_abalone_seed\" {"))
        #expect(outcome.stdout.contains("\"CheckMse\" -> \"MseFail\" [label=\"else\"];"))
        #expect(outcome.stdout.contains("\"MyLambdaStep\" -> \"AbaloneProcess\";"))
    }

    @Test func mermaidLabelsBranches() throws {
        let outcome = try ShoalProcess.run(["graph", Self.abalone, "--format", "mermaid"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.hasPrefix("flowchart LR"))
        #expect(outcome.stdout.contains("n2 -->|else| n3"))
    }

    @Test func jsonGivesTheRunOrder() throws {
        let outcome = try ShoalProcess.run(["graph", Fixtures.sagemaker.appendingPathComponent("05_depends_on.json").path, "--format", "json"])
        #expect(outcome.status == 0)
        let graph = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        #expect(graph["order"] as? [String] == ["Extract", "Audit", "CleanA", "CleanB", "Merge", "Notify"])
    }

    @Test func invalidDefinitionIsNotDrawn() throws {
        let file = Fixtures.sagemaker.appendingPathComponent("invalid/cycle_depends_on.json").path
        let outcome = try ShoalProcess.run(["graph", file])
        #expect(outcome.status == 1)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.contains("A -> B -> C -> A"))
    }
}
