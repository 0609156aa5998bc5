import ArgumentParser
import Foundation
import ShoalEngine
import ShoalStore

struct FunctionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "functions",
        abstract: "Register the Lambda-style functions that Lambda steps call.",
        discussion: """
            A Lambda step's FunctionArn (arn:aws:lambda:…:function:NAME, or NAME) names a
            function registered here. Workers load its handler once in a warm Python
            process and feed it each step's evaluated Arguments as the event.

            Example:
              shoal functions create --name sagemaker_test_lambda --script examples/abalone/lambda_fn.py --handler lambda_fn.lambda_handler
            """,
        subcommands: [Create.self, List.self, Delete.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register (or replace) a function.")
        @Option(help: "The function name, as at the end of FunctionArn.") var name: String
        @Option(help: "A single Python file holding the handler.") var script: String?
        @Option(help: "A folder of Python code holding the handler module.") var zipDir: String?
        @Option(help: "module.function of the handler.") var handler: String
        @Option(help: "Seconds an invocation may take (1 to 900).") var timeout = 120
        @OptionGroup var home: HomeOptions

        func validate() throws {
            guard (script == nil) != (zipDir == nil) else { throw ValidationError("Give exactly one of --script FILE and --zip-dir DIR.") }
            do { try FunctionRegistration.check(name: name, handler: handler, timeout: timeout) } catch { throw ValidationError("\(error).") }
        }

        func run() throws {
            let store = try home.open()
            do {
                try FunctionRegistration.register(name: name, handler: handler, timeout: timeout, code: script.map { .script($0) } ?? .folder(zipDir ?? ""), home: store)
            } catch let refused as FunctionRegistration.Refused {
                throw CommandFailure(refused.description)
            }
            print("function \(name): \(handler), timeout \(timeout) s")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered functions.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: OutputOptions

        struct Row: Encodable {
            let name: String
            let handler: String
            let timeoutSeconds: Int
            let codePath: String
            let createdAt: Date
        }

        func run() throws {
            let functions = try home.open().metadata.functions()
            switch output.output {
            case .json: try printJSON(functions.map { Row(name: $0.name, handler: $0.handler, timeoutSeconds: $0.timeoutSeconds, codePath: $0.codePath, createdAt: $0.createdAt) })
            case .text: print(Formatting.table(["NAME", "HANDLER", "TIMEOUT", "CREATED"], functions.map { [$0.name, $0.handler, "\($0.timeoutSeconds)s", Formatting.time($0.createdAt)] }))
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a function.")
        @Argument(help: "The function name.") var name: String
        @OptionGroup var home: HomeOptions

        func run() throws {
            let store = try home.open()
            guard try store.metadata.deleteFunction(named: name) else { throw CommandFailure("no function '\(name)'") }
            try? FileManager.default.removeItem(at: store.functionsFolder.appendingPathComponent(name))
            print("function \(name) deleted")
        }
    }
}
