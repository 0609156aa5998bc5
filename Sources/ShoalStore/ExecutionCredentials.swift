import Crypto
import Foundation

/// The key pair a running execution's jobs and handlers sign with, so boto3
/// inside them reaches the endpoint as that execution (a pipeline it starts
/// records it as its parent). Nothing is stored per execution: the pair is
/// derived from the home's endpoint secret and the execution id, and the
/// endpoint accepts it only while the execution runs.
public struct ExecutionCredentials: Sendable {
    /// Access key ids of executions: this, then the execution id upper-cased.
    public static let prefix = "SHOALX"
    public static let principalPrefix = "execution/"

    let secretPath: String

    public init(home: ShoalHome) { secretPath = home.root.appendingPathComponent("endpoint-secret").path }

    public struct Pair: Sendable, Equatable {
        public let accessKeyId: String
        public let secretAccessKey: String
    }

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The pair of one execution.
    public func pair(executionId: String) throws -> Pair {
        let key = SymmetricKey(data: try secret())
        let mac = HMAC<SHA256>.authenticationCode(for: Data("execution/\(executionId)".utf8), using: key)
        return Pair(accessKeyId: Self.prefix + executionId.uppercased(), secretAccessKey: Data(mac).base64EncodedString())
    }

    /// The execution an access key id names, if it is one of these.
    public static func executionId(of accessKeyId: String) -> String? {
        guard accessKeyId.hasPrefix(prefix), accessKeyId.count > prefix.count, accessKeyId.count <= prefix.count + 64 else { return nil }
        return accessKeyId.dropFirst(prefix.count).lowercased()
    }

    /// The home's endpoint secret: 32 random bytes made once, readable by its owner only.
    private func secret() throws -> Data {
        if let data = FileManager.default.contents(atPath: secretPath), data.count == 32 { return data }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        let temporary = secretPath + ".\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Unavailable(description: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let failed = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, 32) } != 32
        close(descriptor)
        // Two processes racing here: the first rename wins and both read it back.
        guard !failed, link(temporary, secretPath) == 0 || errno == EEXIST else {
            unlink(temporary)
            throw Unavailable(description: "cannot write \(secretPath): \(String(cString: strerror(errno)))")
        }
        unlink(temporary)
        guard let data = FileManager.default.contents(atPath: secretPath), data.count == 32 else {
            throw Unavailable(description: "\(secretPath) is not a 32-byte secret")
        }
        return data
    }

    /// What a job or handler needs in its environment to reach the endpoint as its execution.
    public func environment(executionId: String, endpointURL: String) throws -> [String: String] {
        let pair = try pair(executionId: executionId)
        return [
            "AWS_ENDPOINT_URL": endpointURL, "AWS_ACCESS_KEY_ID": pair.accessKeyId, "AWS_SECRET_ACCESS_KEY": pair.secretAccessKey,
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
        ]
    }
}
