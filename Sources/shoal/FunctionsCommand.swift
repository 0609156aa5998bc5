import ArgumentParser
import Foundation
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
            guard name.range(of: "^[A-Za-z0-9_-]{1,64}$", options: .regularExpression) != nil else {
                throw ValidationError("--name may contain only letters, digits, '-' and '_' (1 to 64).")
            }
            let parts = handler.split(separator: ".")
            guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else { throw ValidationError("--handler must be module.function; got '\(handler)'.") }
            guard (1...900).contains(timeout) else { throw ValidationError("--timeout must be between 1 and 900 seconds.") }
            if let script {
                let module = URL(fileURLWithPath: script).deletingPathExtension().lastPathComponent
                guard parts.dropLast().joined(separator: ".") == module else {
                    throw ValidationError("--handler '\(handler)' names module '\(parts.dropLast().joined(separator: "."))', but the script is module '\(module)'.")
                }
            }
        }

        func run() throws {
            let store = try home.open()
            let manager = FileManager.default
            let source = script ?? zipDir!
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue == (zipDir != nil) else {
                throw CommandFailure("\(source): no such \(zipDir != nil ? "folder" : "file")")
            }
            try manager.createDirectory(at: store.functionsFolder, withIntermediateDirectories: true)
            // Copy beside, then swap in, so a running worker never sees half the code.
            let staged = store.functionsFolder.appendingPathComponent(".\(name)-\(UUID().uuidString)")
            if let script {
                try manager.createDirectory(at: staged, withIntermediateDirectories: true)
                try manager.copyItem(atPath: script, toPath: staged.appendingPathComponent(URL(fileURLWithPath: script).lastPathComponent).path)
            } else {
                try manager.copyItem(atPath: zipDir!, toPath: staged.path)
            }
            let target = store.functionsFolder.appendingPathComponent(name)
            if manager.fileExists(atPath: target.path) { try manager.removeItem(at: target) }
            try manager.moveItem(at: staged, to: target)
            try store.metadata.save(FunctionRecord(name: name, handler: handler, codePath: target.path, timeoutSeconds: timeout, createdAt: Date()))
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
