import AWSSignature
import Crypto
import Foundation
import ShoalEngine
import ShoalStore

/// An SQS subset (JSON 1.0, `X-Amz-Target: AmazonSQS.<Op>`) over the home's
/// queues: enough for an unchanged boto3 consumer of Callback steps' messages
/// (CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, SendMessage,
/// ReceiveMessage with long polling, DeleteMessage, ChangeMessageVisibility).
struct SQSAPI: Sendable {
    let home: ShoalHome

    typealias Object = [String: Any]

    /// Long polls wait at most this long, as SQS allows.
    static let maxWaitSeconds = 20
    /// Long polls waiting at once, each on a thread of its own.
    static let longPolls = Counter(limit: 32)

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        private let limit: Int

        init(limit: Int) { self.limit = limit }

        /// Takes a place if one is free.
        func enter() -> Bool {
            lock.withLock {
                guard count < limit else { return false }
                count += 1
                return true
            }
        }

        func leave() { lock.withLock { count -= 1 } }
    }

    func handle(_ operation: String, _ input: Object, baseURL: String) throws -> Object {
        func url(_ name: String) -> String { "\(baseURL)/\(Identifiers.account)/\(name)" }
        switch operation {
        case "CreateQueue":
            let name = try queueName(input["QueueName"] as? String)
            let visibility = ((input["Attributes"] as? Object)?["VisibilityTimeout"] as? String).flatMap(Int.init) ?? 30
            guard (0...43_200).contains(visibility) else { throw AWSError.sqs("InvalidAttributeValue", "VisibilityTimeout must be between 0 and 43200 seconds.") }
            try home.metadata.createQueue(name, visibilityTimeout: visibility)
            return ["QueueUrl": url(name)]
        case "GetQueueUrl":
            let name = try queueName(input["QueueName"] as? String)
            guard try home.metadata.queue(named: name) != nil else { throw AWSError.noQueue(name) }
            return ["QueueUrl": url(name)]
        case "ListQueues":
            return ["QueueUrls": try home.metadata.queues(prefix: input["QueueNamePrefix"] as? String ?? "").map { url($0.name) }]
        case "DeleteQueue":
            let name = try named(input)
            guard try home.metadata.deleteQueue(name) else { throw AWSError.noQueue(name) }
            return [:]
        case "SendMessage":
            let name = try named(input)
            guard let body = input["MessageBody"] as? String, !body.isEmpty else { throw AWSError.sqs("MissingParameter", "MessageBody is required.") }
            let message = try queued { try home.metadata.send(body, to: name) }
            return ["MessageId": message.messageId, "MD5OfMessageBody": Self.md5(body)]
        case "ReceiveMessage":
            let name = try named(input)
            let count = input["MaxNumberOfMessages"] as? Int ?? 1
            guard (1...10).contains(count) else { throw AWSError.sqs("InvalidParameterValue", "MaxNumberOfMessages must be between 1 and 10.") }
            // A long poll holds a thread; past the bound, polls answer at once instead.
            let waiting = Self.longPolls.enter()
            defer { if waiting { Self.longPolls.leave() } }
            let wait = waiting ? min(max(input["WaitTimeSeconds"] as? Int ?? 0, 0), Self.maxWaitSeconds) : 0
            let deadline = Date().addingTimeInterval(TimeInterval(wait))
            var messages: [QueueMessage] = []
            repeat {
                messages = try queued { try home.metadata.receive(from: name, count: count, visibility: input["VisibilityTimeout"] as? Int) }
                if messages.isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            } while messages.isEmpty && Date() < deadline
            return ["Messages": messages.map { message -> Object in
                ["MessageId": message.messageId, "ReceiptHandle": message.receiptHandle ?? "", "MD5OfBody": Self.md5(message.body), "Body": message.body,
                 "Attributes": ["ApproximateReceiveCount": String(message.receiveCount), "SentTimestamp": String(Int(message.sentAt.timeIntervalSince1970 * 1000))]]
            }]
        case "DeleteMessage":
            let name = try named(input)
            guard let handle = input["ReceiptHandle"] as? String else { throw AWSError.sqs("MissingParameter", "ReceiptHandle is required.") }
            try queued { try home.metadata.deleteMessage(handle, from: name) }
            return [:]
        case "ChangeMessageVisibility":
            let name = try named(input)
            guard let handle = input["ReceiptHandle"] as? String, let seconds = input["VisibilityTimeout"] as? Int, (0...43_200).contains(seconds) else {
                throw AWSError.sqs("InvalidParameterValue", "ChangeMessageVisibility needs a ReceiptHandle and a VisibilityTimeout from 0 to 43200.")
            }
            try queued { try home.metadata.changeVisibility(handle, in: name, seconds: seconds) }
            return [:]
        default:
            throw AWSError(code: "UnknownOperationException", status: 400, message: "Shoal does not implement SQS \(operation) yet.")
        }
    }

    private func queueName(_ given: String?) throws -> String {
        guard let name = given, name.range(of: "^[A-Za-z0-9_-]{1,80}$", options: .regularExpression) != nil else {
            throw AWSError.sqs("InvalidParameterValue", "A queue name has 1 to 80 letters, digits, '-' and '_'; got '\((given ?? "").prefix(100))'.")
        }
        return name
    }

    /// The queue a `QueueUrl` names: its last path component.
    private func named(_ input: Object) throws -> String {
        guard let url = input["QueueUrl"] as? String, let name = url.split(separator: "/").last else { throw AWSError.sqs("MissingParameter", "QueueUrl is required.") }
        return String(name)
    }

    private func queued<T>(_ work: () throws -> T) throws -> T {
        do { return try work() } catch let error as MetadataStore.QueueError {
            switch error.kind {
            case .noQueue: throw AWSError.noQueue(error.description)
            case .full: throw AWSError.sqs("OverLimit", error.description)
            case .tooLarge: throw AWSError.sqs("InvalidParameterValue", error.description)
            case .badReceipt: throw AWSError.sqs("ReceiptHandleIsInvalid", error.description)
            }
        }
    }

    static func md5(_ text: String) -> String { SigV4.hex(Insecure.MD5.hash(data: Data(text.utf8))) }
}

extension AWSError {
    /// SQS speaks JSON but keeps its query-protocol codes, in `x-amzn-query-error`.
    static func sqs(_ code: String, _ message: String) -> AWSError {
        AWSError(code: code, status: 400, message: message, queryError: code + ";Sender", typePrefix: "com.amazonaws.sqs#")
    }

    static func noQueue(_ name: String) -> AWSError {
        AWSError(code: "QueueDoesNotExist", status: 400, message: "The specified queue does not exist (\(name)).",
                 queryError: "AWS.SimpleQueueService.NonExistentQueue;Sender", typePrefix: "com.amazonaws.sqs#")
    }
}
