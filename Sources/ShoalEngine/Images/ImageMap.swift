import Foundation
import ShoalRuntime
import ShoalStore

/// Which runtime runs each image a step names (`ImageUri`, `TrainingImage`):
/// the home's own mappings (`images.json`, kept by `shoal images map`) first,
/// then Shoal's defaults for SageMaker's framework images; the first pattern
/// that matches wins. An image no pattern matches does not run.
public struct ImageMap: Sendable, Equatable {
    public struct Mapping: Codable, Sendable, Equatable {
        public enum Runtime: String, Codable, Sendable, CaseIterable {
            case host, python, oci
        }

        /// A glob over the whole image URI: `*` matches any characters, `/` included.
        public var pattern: String
        public var runtime: Runtime
        /// For `python`: pip requirement lines (pinned by whoever maps the image).
        public var requirements: [String]?
        /// For `oci`: the local image to run (podman's name for it); the step's image when absent.
        public var ociImage: String?
        /// For the defaults: the requirements follow the image tag's framework version.
        public var framework: FrameworkImages.Framework?
        /// Where it comes from: `home` or `default` (not stored).
        public var source: String?

        public init(
            pattern: String, runtime: Runtime, requirements: [String]? = nil, ociImage: String? = nil, framework: FrameworkImages.Framework? = nil, source: String? = nil
        ) {
            self.pattern = pattern
            self.runtime = runtime
            self.requirements = requirements
            self.ociImage = ociImage
            self.framework = framework
            self.source = source
        }

        func matches(_ image: String) -> Bool { fnmatch(pattern, image, 0) == 0 }
    }

    public var own: [Mapping]
    public var all: [Mapping] { own.map { var m = $0; m.source = "home"; return m } + FrameworkImages.defaults }

    public static let fileName = "images.json"

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public init(own: [Mapping] = []) { self.own = own }

    public static func load(for home: ShoalHome) throws(Invalid) -> ImageMap {
        let path = home.root.appendingPathComponent(fileName).path
        guard let data = FileManager.default.contents(atPath: path) else { return ImageMap() }
        do {
            var mappings = try JSONDecoder().decode([Mapping].self, from: data)
            for index in mappings.indices { mappings[index].source = nil }
            return ImageMap(own: mappings)
        } catch {
            throw Invalid(description: "\(path) is not a list of image mappings (\(error)); fix it or remove it and map again with shoal images map")
        }
    }

    public func save(for home: ShoalHome) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(own).write(to: home.root.appendingPathComponent(Self.fileName), options: .atomic)
    }

    /// Adds or replaces the home's mapping for `mapping.pattern`; a new pattern goes first.
    public mutating func map(_ mapping: Mapping) {
        if let index = own.firstIndex(where: { $0.pattern == mapping.pattern }) { own[index] = mapping } else { own.insert(mapping, at: 0) }
    }

    /// Removes the home's mapping for `pattern`; false when there was none.
    public mutating func unmap(_ pattern: String) -> Bool {
        guard let index = own.firstIndex(where: { $0.pattern == pattern }) else { return false }
        own.remove(at: index)
        return true
    }

    /// The runtime `image` runs as, or why it cannot run (with the command that maps it).
    public func runtime(for image: String) throws(Invalid) -> JobRuntime {
        guard let mapping = all.first(where: { $0.matches(image) }) else {
            let shown = image.isEmpty ? "(none)" : "'\(image)'"
            throw Invalid(description: "the image \(shown) has no runtime in this home's image map; map it with `shoal images map '\(image)' host` (run it with the host's programs), `shoal images map '\(image)' python --requirements FILE` (a Python environment of its own) or `shoal images map '\(image)' oci` (the container image, run with podman); `shoal images list` shows the map")
        }
        switch mapping.runtime {
        case .host:
            return .host
        case .python:
            var requirements = mapping.requirements ?? []
            if let framework = mapping.framework {
                do { requirements = try FrameworkImages.requirements(framework, image: image) } catch { throw Invalid(description: error.description) }
            }
            return .python(name: Self.environmentName(requirements), requirements: requirements)
        case .oci:
            return .oci(image: mapping.ociImage ?? image)
        }
    }

    /// Environments are named by what makes them: the interpreter and the requirement lines.
    static func environmentName(_ requirements: [String]) -> String {
        "python-" + ContentDigest.sha256Hex(Array(([PythonEnvironment.interpreter] + requirements).joined(separator: "\n").utf8)).prefix(16)
    }
}
