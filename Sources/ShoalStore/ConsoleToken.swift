import Foundation

/// The secret a browser presents to the console on a non-loopback address
/// (`shoal console token`), kept in the home's `console-token`, readable by its
/// owner only. The buttons' CSRF token is derived from it, so one file holds
/// everything the console trusts.
public struct ConsoleToken: Sendable {
    public let path: String

    public init(home: ShoalHome) { path = home.root.appendingPathComponent("console-token").path }

    public struct Unreadable: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The token, made on first use (32 random characters).
    public func value() throws -> String {
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.count >= 24 else { throw Unreadable(description: "\(path) holds no token; delete it and a new one is made") }
            return token
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        // SystemRandomNumberGenerator reads getrandom(2): fit for secrets.
        let token = String((0..<32).map { _ in alphabet.randomElement()! })
        let temporary = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Unreadable(description: "cannot write \(temporary)")
        }
        // link(2) fails if another process made the token first: both then use that one.
        let made = link(temporary, path) == 0
        unlink(temporary)
        if made { return token }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw Unreadable(description: "cannot read \(path)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
