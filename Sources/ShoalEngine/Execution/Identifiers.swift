import Foundation

/// Names and ARNs in the shapes SageMaker uses (spec §2.2, §4.9), with a local
/// region and account.
public enum Identifiers {
    public static let region = "local"
    public static let account = "000000000000"

    /// 12 lowercase letters and digits, like `4wemqw2sucgh`.
    public static func executionId() -> String { random(12, alphabet: "abcdefghijklmnopqrstuvwxyz0123456789") }
    /// A Callback step's token: whoever holds it may end the step.
    public static func callbackToken() -> String { random(32, alphabet: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") }

    public static func pipelineArn(_ pipeline: String) -> String {
        "arn:aws:sagemaker:\(region):\(account):pipeline/\(pipeline.lowercased())"
    }

    public static func executionArn(_ pipeline: String, _ execution: String) -> String {
        pipelineArn(pipeline) + "/execution/\(execution)"
    }

    /// `pipelines-<execution>-<step>-<10 random>`, at most 63 characters of [a-zA-Z0-9-].
    public static func jobName(execution: String, step: String) -> String {
        let cleaned = String(step.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
        let suffix = random(10, alphabet: "abcdefghijklmnopqrstuvwxyz0123456789")
        let room = 63 - "pipelines-\(execution)--".count - suffix.count
        return "pipelines-\(execution)-\(cleaned.prefix(max(1, room)))-\(suffix)"
    }

    public static func functionArn(_ name: String) -> String {
        "arn:aws:lambda:\(region):\(account):function:\(name)"
    }

    public static func transformJobArn(_ jobName: String) -> String {
        "arn:aws:sagemaker:\(region):\(account):transform-job/\(jobName.lowercased())"
    }

    public static func trainingJobArn(_ jobName: String) -> String {
        "arn:aws:sagemaker:\(region):\(account):training-job/\(jobName.lowercased())"
    }

    public static func processingJobArn(_ jobName: String) -> String {
        "arn:aws:sagemaker:\(region):\(account):processing-job/\(jobName.lowercased())"
    }

    /// ISO 8601 UTC with milliseconds, Shoal's rendering of execution times (spec §2.2).
    public static func timestamp(_ date: Date) -> String {
        timestampFormatter.string(from: date)
    }

    /// Made once: listings format thousands of times.
    nonisolated(unsafe) private static let timestampFormatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter
    }()

    private static func random(_ count: Int, alphabet: String) -> String {
        let characters = Array(alphabet)
        return String((0..<count).map { _ in characters.randomElement()! })
    }
}
