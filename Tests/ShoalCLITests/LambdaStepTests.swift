import Foundation
import ShoalDefinition
import ShoalTestSupport
import Testing

@Suite(.serialized) struct LambdaStepTests {
    /// A Lambda step whose outputs feed a Fail step's message, so a test can see them.
    func scenario(handler code: String, outputs: [OutputParameter]) throws -> (TemporaryHome, String) {
        let home = try TemporaryHome()
        let script = try home.file("fn.py", code)
        let created = try home.shoal(["functions", "create", "--name", "fn", "--script", script, "--handler", "fn.handler", "--timeout", "5"])
        #expect(created.status == 0, "\(created.stderr)")
        let lambda = Step.lambda(
            "Ask", functionArn: "arn:aws:lambda:us-east-1:123456789012:function:fn",
            arguments: ["dataset": .parameter("Dataset"), "run": .execution(.pipelineExecutionId), "rows": 3], outputs: outputs
        )
        let definition = PipelineDefinition {
            Parameter(name: "Dataset", type: .string, defaultValue: "abalone")
            lambda
            Step.fail("Report", message: .join(on: " ", outputs.map { lambda.output($0.name) }), dependsOn: ["Ask"])
        }
        return (home, try home.file("pipeline.json", definition.jsonText()))
    }

    @Test func outputsAreCastToTheirDeclaredTypes() throws {
        let (home, path) = try scenario(
            handler: "def handler(event, context):\n    return {'n': str(event['rows']), 'ok': 'TRUE', 'ratio': 1, 'name': event['dataset']}\n",
            outputs: [.init(name: "n", type: .integer), .init(name: "ok", type: .boolean), .init(name: "ratio", type: .float), .init(name: "name", type: .string)]
        )
        let outcome = try home.shoal(["run", path, "--workers", "1"])
        // The Fail step ends the execution with the outputs as its message.
        #expect(outcome.stderr.contains("Failed: 3 true 1.0 abalone"), "\(outcome.stderr)")
    }

    @Test func handlerExceptionFailsTheStepWithItsMessage() throws {
        let (home, path) = try scenario(handler: "def handler(event, context):\n    raise RuntimeError('table is locked')\n", outputs: [])
        let outcome = try home.shoal(["run", path, "--workers", "1"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("Step 'Ask' failed: RuntimeError: table is locked"))
    }

    @Test func missingOrUncastableOutputFailsNamingIt() throws {
        let (home, path) = try scenario(handler: "def handler(event, context):\n    return {'n': 'many'}\n", outputs: [.init(name: "n", type: .integer)])
        let outcome = try home.shoal(["run", path, "--workers", "1"])
        #expect(outcome.stderr.contains("Lambda output 'n' is not Integer: the function returned \"many\"."))
        let (other, otherPath) = try scenario(handler: "def handler(event, context):\n    return {}\n", outputs: [.init(name: "n", type: .integer)])
        #expect(try other.shoal(["run", otherPath, "--workers", "1"]).stderr.contains("Lambda output 'n' is missing from the function's result."))
    }

    @Test func unregisteredFunctionIsNamed() throws {
        let (home, path) = try scenario(handler: "def handler(e, c):\n    return {}\n", outputs: [])
        #expect(try home.shoal(["functions", "delete", "fn"]).status == 0)
        let outcome = try home.shoal(["run", path, "--workers", "1"])
        #expect(outcome.stderr.contains("Function 'fn' (from FunctionArn 'arn:aws:lambda:us-east-1:123456789012:function:fn') is not registered"))
    }

    @Test func functionsAreListedAndValidated() throws {
        let home = try TemporaryHome()
        let script = try home.file("fn.py", "def handler(e, c):\n    return {}\n")
        let wrongModule = try home.shoal(["functions", "create", "--name", "fn", "--script", script, "--handler", "other.handler"])
        #expect(wrongModule.status != 0)
        #expect(wrongModule.stderr.contains("names module 'other', but the script is module 'fn'"))
        #expect(try home.shoal(["functions", "create", "--name", "fn", "--script", script, "--handler", "fn.handler"]).status == 0)
        let listing = try home.shoal(["functions", "list", "--output", "json"])
        #expect(listing.stdout.contains("\"handler\" : \"fn.handler\""))
    }
}
