import ArgumentParser
import Foundation
import ShoalEngine
import ShoalRuntime

struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Map the images steps name to the runtimes that run them.",
        discussion: """
            A step's image (ImageUri, TrainingImage) runs as one of:
              host    the host's own programs (python3 is the host's)
              python  a Python virtual environment made from pinned requirements, built
                      once per host and mounted read-only into each instance; the
                      entrypoint's python3 is the environment's
              oci     the container image itself, run with podman (its own entrypoint
                      unless the step names one); the image must be in podman's
                      local store (podman build, podman load, podman pull)
            The home's mappings come first, then Shoal's defaults for SageMaker's framework
            images (scikit-learn, XGBoost, PyTorch CPU: the tag's framework version picks
            the PyPI releases). An image no pattern matches fails its step at once.

            Examples:
              shoal images list
              shoal images map '123456789012.dkr.ecr.us-east-1.amazonaws.com/prep:*' host
              shoal images map '*/my-trainer:*' python --requirements requirements.txt
              shoal images map '*/tiny:*' python --package six==1.16.0
              shoal images map '*/my-container:*' oci --oci-image localhost/my-container:latest
              shoal images resolve 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3
              shoal images unmap '*/tiny:*'
            """,
        subcommands: [List.self, Map.self, Unmap.self, Resolve.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The image map, in the order patterns are tried.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let map = try loadMap(home)
            switch output.output {
            case .json:
                try printJSON(map.all)
            case .text:
                print(Formatting.table(["PATTERN", "RUNTIME", "REQUIREMENTS", "SOURCE"], map.all.map { mapping in
                    let requirements = mapping.framework.map { "\($0.rawValue) release of the tag's version" }
                        ?? mapping.ociImage.map { "image \($0)" }
                        ?? (mapping.requirements.map { $0.isEmpty ? "-" : $0.joined(separator: " ") } ?? "-")
                    return [mapping.pattern, mapping.runtime.rawValue, requirements, mapping.source ?? "home"]
                }))
            }
        }
    }

    struct Map: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run images matching PATTERN (a glob over the whole URI) with RUNTIME.")
        @Argument(help: "A glob over the image URI; * matches anything, / included.") var pattern: String
        @Argument(help: "host or python.") var runtime: ImageMap.Mapping.Runtime
        @Option(help: "For python: a pip requirements file (pin every line).") var requirements: String?
        @Option(help: "For python: one requirement (repeatable), e.g. pandas==2.2.2.") var package: [String] = []
        @Option(name: .customLong("oci-image"), help: "For oci: the local image podman runs (default: the step's image itself).") var ociImage: String?
        @OptionGroup var home: HomeOptions

        func run() throws {
            var lines = package
            if let requirements {
                let text: String
                do { text = try String(contentsOfFile: requirements, encoding: .utf8) } catch {
                    throw CommandFailure("cannot read the requirements file \(requirements): \(error.localizedDescription)")
                }
                lines += text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
            }
            guard runtime == .python || lines.isEmpty else { throw CommandFailure("--requirements and --package are for the python runtime") }
            guard runtime == .oci || ociImage == nil else { throw CommandFailure("--oci-image is for the oci runtime") }
            guard !pattern.isEmpty, !pattern.contains("\n") else { throw CommandFailure("the pattern must be one non-empty line") }
            if let bad = lines.first(where: { $0.contains("\n") || $0.count > 500 }) { throw CommandFailure("not a requirement line: \(bad.prefix(80))") }
            let opened = try home.open()
            var map = try loadMap(home)
            map.map(.init(pattern: pattern, runtime: runtime, requirements: runtime == .python ? lines : nil, ociImage: ociImage))
            do { try map.save(for: opened) } catch { throw CommandFailure("cannot write the image map: \(error.localizedDescription)") }
            print("mapped \(pattern) → \(runtime.rawValue)\(runtime == .python ? " (\(lines.count) requirement\(lines.count == 1 ? "" : "s"))" : "")")
        }
    }

    struct Unmap: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the home's mapping for PATTERN.")
        @Argument var pattern: String
        @OptionGroup var home: HomeOptions

        func run() throws {
            var map = try loadMap(home)
            guard map.unmap(pattern) else { throw CommandFailure("the home has no mapping for \(pattern); `shoal images list` shows the map (defaults cannot be removed, only covered)") }
            do { try map.save(for: try home.open()) } catch { throw CommandFailure("cannot write the image map: \(error.localizedDescription)") }
            print("unmapped \(pattern)")
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Which runtime IMAGE runs as, and with which requirements.")
        @Argument var image: String
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: OutputOptions

        struct Resolved: Encodable {
            let image: String
            let runtime: String
            let environment: String?
            let requirements: [String]?
        }

        func run() throws {
            let runtime: JobRuntime
            let map = try loadMap(home)
            do { runtime = try map.runtime(for: image) } catch { throw CommandFailure(error.description) }
            let resolved: Resolved
            switch runtime {
            case .host: resolved = Resolved(image: image, runtime: "host", environment: nil, requirements: nil)
            case let .python(name, requirements): resolved = Resolved(image: image, runtime: "python", environment: name, requirements: requirements)
            case let .oci(local): resolved = Resolved(image: local, runtime: "oci", environment: nil, requirements: nil)
            }
            switch output.output {
            case .json: try printJSON(resolved)
            case .text:
                print("\(image) → \(resolved.runtime)\(resolved.environment.map { " (\($0))" } ?? "")")
                for line in resolved.requirements ?? [] { print("  \(line)") }
            }
        }
    }
}

extension ImageMap.Mapping.Runtime: ExpressibleByArgument {}

private func loadMap(_ home: HomeOptions) throws -> ImageMap {
    do { return try ImageMap.load(for: try home.open()) } catch let error as ImageMap.Invalid { throw CommandFailure(error.description) }
}
