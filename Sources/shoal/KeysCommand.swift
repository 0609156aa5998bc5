import ArgumentParser
import Foundation
import ZeroMQ

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "CURVE key pairs for authenticated coordinators and workers.",
        subcommands: [Generate.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new key pair: NAME.key (secret, mode 0600) and NAME.pub.",
            discussion: """
                Give each worker its own pair; put the workers' .pub files in the
                coordinator's allow-list folder, and the coordinator's .pub on every worker.

                Example:
                  shoal keys generate worker-1 --dir /etc/shoal/keys
                """
        )
        @Argument(help: "The key's name.") var name: String
        @Option(help: "Where to write the files.") var dir = "."
        @Flag(help: "Replace existing files.") var force = false

        func run() throws {
            let pair = try CurveKeyPair.generate()
            let folder = URL(fileURLWithPath: dir)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let secret = folder.appendingPathComponent("\(name).key")
            let publicKey = folder.appendingPathComponent("\(name).pub")
            for file in [secret, publicKey] where FileManager.default.fileExists(atPath: file.path) && !force {
                throw CommandFailure("\(file.path) exists; add --force to replace it")
            }
            guard FileManager.default.createFile(atPath: secret.path, contents: Data((pair.secretKey + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CommandFailure("cannot write \(secret.path)")
            }
            try Data((pair.publicKey + "\n").utf8).write(to: publicKey)
            print("\(publicKey.path): \(pair.publicKey)")
        }
    }
}

/// Reads a key file written by `shoal keys generate` (or any file holding one Z85 key).
enum KeyFile {
    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("\(path): no such key file") }
        let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard CurveKeyPair.isValidKey(key) else { throw CommandFailure("\(path): not a CURVE key (40 characters of Z85)") }
        return key
    }
}
