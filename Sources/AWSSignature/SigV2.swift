import Crypto
import Foundation

/// S3's presigned URLs of the older scheme (signature version 2, query form):
/// what boto3's `generate_presigned_url` makes for S3 by default. Only the
/// query form is accepted; headers signed this way are refused as unsigned.
package enum SigV2 {
    /// The sub-resources S3 signs as part of the resource, sorted.
    package static let subresources: Set<String> = [
        "acl", "delete", "lifecycle", "location", "logging", "notification", "partNumber", "policy", "requestPayment",
        "response-cache-control", "response-content-disposition", "response-content-encoding", "response-content-language",
        "response-content-type", "response-expires", "torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website",
    ]

    package static func presigned(query: String, now: Date) throws(AWSError) -> SignedRequest.Claim {
        let fields = SigV4.fields(query)
        guard let key = fields["AWSAccessKeyId"], let signature = fields["Signature"], let expires = fields["Expires"], let until = TimeInterval(expires) else {
            throw AWSError(code: "AuthorizationQueryParametersError", status: 400, message: "a presigned URL needs AWSAccessKeyId, Expires and Signature")
        }
        guard now.timeIntervalSince1970 <= until else {
            throw AWSError(code: "AccessDenied", status: 403, message: "Request has expired (Expires \(expires))")
        }
        let authorization = SigV4.Authorization(accessKeyId: key, date: "", region: "us-east-1", service: "s3", signedHeaders: [], signature: signature)
        return SignedRequest.Claim(authorization: authorization, amzDate: "", presigned: true, legacyExpires: expires)
    }

    /// Base64 HMAC-SHA1 of `METHOD\n\n\nEXPIRES\n/bucket/key[?subresources]`.
    package static func signature(secret: String, method: String, rawPath: String, rawQuery: String?, expires: String) -> String {
        var signed: [(String, String?)] = []
        for item in (rawQuery ?? "").split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = SigV4.decode(String(pair[0]))
            if subresources.contains(name) { signed.append((name, pair.count == 2 ? SigV4.decode(String(pair[1])) : nil)) }
        }
        signed.sort { $0.0 < $1.0 }
        var resource = rawPath.isEmpty ? "/" : rawPath
        let parts: [String] = signed.map { (name: String, value: String?) -> String in value.map { name + "=" + $0 } ?? name }
        if !parts.isEmpty { resource += "?" + parts.joined(separator: "&") }
        let stringToSign = "\(method)\n\n\n\(expires)\n\(resource)"
        return Data(HMAC<Insecure.SHA1>.authenticationCode(for: Data(stringToSign.utf8), using: SymmetricKey(data: Data(secret.utf8)))).base64EncodedString()
    }
}
