import ShoalDefinition

/// Where a step's property file is: its file under the step's output of that
/// name. What `Std:JsonGet` reads, and what the console shows.
public enum PropertyFileLocation {
    public static func uri(output: String, path: String, in properties: JSONValue) -> String? {
        guard case let .string(outputUri)? = JSONNavigation.follow(
            [.member("ProcessingOutputConfig"), .member("Outputs"), .key(output), .member("S3Output"), .member("S3Uri")], in: properties
        ) else { return nil }
        return outputUri.hasSuffix("/") ? outputUri + path : outputUri + "/" + path
    }
}
