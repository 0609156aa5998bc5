import Foundation

/// The SDK-made definitions the tests read, kept in `Tests/Fixtures` so a
/// clone of the repository needs nothing beside it.
public enum Fixtures {
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        // The test sources always sit inside the package; were they not, paths under "/" simply find no fixture.
        return URL(fileURLWithPath: "/")
    }()

    public static let folder = repositoryRoot.appendingPathComponent("Tests/Fixtures")

    public static let sagemaker = folder.appendingPathComponent("sagemaker")

    /// Every SDK-made definition: `NN_*.json` at the top of the fixture folder, so
    /// a fixture added later is covered without touching a test.
    public static var validDefinitions: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: sagemaker.path)) ?? []
        return names.filter { name in
            name.hasSuffix(".json") && name.count > 3 && name.prefix(2).allSatisfy(\.isNumber) && name.dropFirst(2).first == "_"
        }.sorted().map { sagemaker.appendingPathComponent($0) }
    }

    /// One invalid file and the error `expected.json` gives for it.
    public struct InvalidCase: Sendable, CustomStringConvertible {
        public let file: URL
        public let code: String
        public let path: String
        public let message: String
        public let line: Int?
        public let column: Int?
        public var description: String { file.lastPathComponent }
    }

    public static var invalidCases: [InvalidCase] {
        let folder = sagemaker.appendingPathComponent("invalid")
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("expected.json")),
              let expected = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
        else { return [] }
        return expected.keys.sorted().map { name in
            let entry = expected[name]!
            return InvalidCase(
                file: folder.appendingPathComponent(name), code: entry["code"] as! String, path: entry["path"] as! String,
                message: entry["message"] as! String, line: entry["line"] as? Int, column: entry["column"] as? Int
            )
        }
    }
}
