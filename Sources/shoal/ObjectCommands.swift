import ArgumentParser
import Foundation
import ShoalStore

struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp",
        abstract: "Copy files into or out of Shoal's object store.",
        discussion: """
            Examples:
              shoal cp data/abalone.csv s3://my-bucket/abalone/abalone-dataset.csv
              shoal cp --recursive data/ s3://my-bucket/raw/
              shoal cp --recursive s3://my-bucket/training/ ./out/
            """
    )
    @Argument(help: "A local path or s3:// URI.") var source: String
    @Argument(help: "A local path or s3:// URI.") var destination: String
    @Flag(name: [.short, .long], help: "Copy a folder or a whole prefix.") var recursive = false
    @OptionGroup var home: HomeOptions

    func run() throws {
        let store = try home.open()
        switch (source.hasPrefix("s3://"), destination.hasPrefix("s3://")) {
        case (false, true):
            let target = try S3URI(destination)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else { throw CommandFailure("\(source): no such file") }
            if isDirectory.boolValue {
                guard recursive else { throw CommandFailure("\(source) is a folder; add --recursive") }
                var count = 0
                let walker = FileManager.default.enumerator(atPath: source)
                while let relative = walker?.nextObject() as? String {
                    guard walker?.fileAttributes?[.type] as? FileAttributeType == .typeRegular else { continue }
                    try store.objects.write(try Data(contentsOf: URL(fileURLWithPath: source + "/" + relative)), to: try target.appending(relative))
                    count += 1
                }
                print("\(count) files copied to \(target)")
            } else {
                let object = destination.hasSuffix("/") ? try target.appending(URL(fileURLWithPath: source).lastPathComponent) : target
                try store.objects.write(try Data(contentsOf: URL(fileURLWithPath: source)), to: object)
                print("\(source) -> \(object)")
            }
        case (true, false):
            let origin = try S3URI(source)
            if recursive {
                let objects = try store.objects.list(prefix: origin)
                guard !objects.isEmpty else { throw CommandFailure("no objects under \(origin)") }
                let cut = origin.key.lastIndex(of: "/").map { origin.key.distance(from: origin.key.startIndex, to: $0) + 1 } ?? 0
                for object in objects {
                    let target = URL(fileURLWithPath: destination).appendingPathComponent(String(object.uri.key.dropFirst(cut)))
                    try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                    if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
                    try FileManager.default.copyItem(atPath: object.path, toPath: target.path)
                }
                print("\(objects.count) objects copied to \(destination)")
            } else {
                let data = try store.objects.read(origin, maxBytes: Int.max)
                var target = URL(fileURLWithPath: destination)
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory), isDirectory.boolValue {
                    target.appendPathComponent((origin.key as NSString).lastPathComponent)
                }
                try data.write(to: target, options: .atomic)
                print("\(origin) -> \(target.path)")
            }
        default:
            throw CommandFailure("one of SOURCE and DESTINATION must be an s3:// URI and the other a local path")
        }
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the objects under an s3:// prefix in Shoal's object store.",
        discussion: "Example:\n  shoal ls s3://my-bucket/training/"
    )
    @Argument(help: "An s3:// prefix.") var prefix: String
    @Option(help: "At most this many objects.") var limit = 10_000
    @OptionGroup var home: HomeOptions
    @OptionGroup var output: OutputOptions

    struct Row: Encodable {
        let uri: String
        let size: Int
    }

    func run() throws {
        let objects = try home.open().objects.list(prefix: try S3URI(prefix)).prefix(max(1, limit))
        switch output.output {
        case .json: try printJSON(objects.map { Row(uri: $0.uri.description, size: $0.size) })
        case .text: for object in objects { print(String(format: "%12d  %@", object.size, object.uri.description)) }
        }
    }
}
