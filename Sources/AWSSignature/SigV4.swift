import Crypto
import Foundation

/// AWS Signature Version 4, header form, as botocore signs: the canonical
/// request, the string to sign, and the signing key derived from the secret.
package enum SigV4 {
    /// What the `Authorization` header says.
    package struct Authorization: Equatable {
        package let accessKeyId: String
        package let date: String  // yyyyMMdd
        package let region: String
        package let service: String
        package let signedHeaders: [String]
        package let signature: String

        package var scope: String { "\(date)/\(region)/\(service)/aws4_request" }

        package init(accessKeyId: String, date: String, region: String, service: String, signedHeaders: [String], signature: String) {
            self.accessKeyId = accessKeyId
            self.date = date
            self.region = region
            self.service = service
            self.signedHeaders = signedHeaders
            self.signature = signature
        }
    }

    package struct Malformed: Error, CustomStringConvertible {
        package let description: String
    }

    /// Reads `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex`.
    package static func authorization(_ header: String) throws(Malformed) -> Authorization {
        let prefix = "AWS4-HMAC-SHA256 "
        guard header.hasPrefix(prefix) else { throw Malformed(description: "the Authorization header is not AWS4-HMAC-SHA256") }
        var fields: [String: String] = [:]
        for part in header.dropFirst(prefix.count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        guard let credential = fields["Credential"], let signed = fields["SignedHeaders"], let signature = fields["Signature"] else {
            throw Malformed(description: "the Authorization header lacks Credential, SignedHeaders or Signature")
        }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request", !scope[0].isEmpty else {
            throw Malformed(description: "the credential '\(credential.prefix(128))' is not KEY/DATE/REGION/SERVICE/aws4_request")
        }
        return Authorization(
            accessKeyId: scope[0], date: scope[1], region: scope[2], service: scope[3],
            signedHeaders: signed.split(separator: ";").map(String.init), signature: signature
        )
    }

    /// The canonical request of a request as it arrived: `rawPath` and
    /// `rawQuery` as sent (percent-encoded by the client).
    package static func canonicalRequest(
        method: String, rawPath: String, rawQuery: String?, headers: [(name: String, value: String)], signedHeaders: [String],
        payloadHash: String, service: String
    ) -> String {
        // S3 signs the path as sent; the other services encode it once more.
        let path = rawPath.isEmpty ? "/" : rawPath
        let canonicalPath = service == "s3" ? path : encode(path, keepSlash: true)
        var pairs: [(String, String)] = []
        for item in (rawQuery ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(String(pair[0]))
            let value = pair.count == 2 ? decode(String(pair[1])) : ""
            pairs.append((encode(key, keepSlash: false), encode(value, keepSlash: false)))
        }
        pairs.sort { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        let query: String = pairs.map { (pair: (String, String)) -> String in pair.0 + "=" + pair.1 }.joined(separator: "&")
        var values: [String: [String]] = [:]
        for (name, value) in headers { values[name.lowercased(), default: []].append(value) }
        let canonicalHeaders: String = signedHeaders.map { (name: String) -> String in
            let joined: String = (values[name] ?? []).map { (value: String) -> String in
                value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            }.joined(separator: ",")
            return name + ":" + joined + "\n"
        }.joined()
        let parts: [String] = [method, canonicalPath, query, canonicalHeaders, signedHeaders.joined(separator: ";"), payloadHash]
        return parts.joined(separator: "\n")
    }

    package static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(hex(SHA256.hash(data: Data(canonicalRequest.utf8))))"
    }

    package static func signature(secret: String, authorization: Authorization, stringToSign: String) -> String {
        sign(stringToSign, key: signingKey(secret: secret, authorization: authorization))
    }

    /// The key a secret derives for one day, region and service.
    package static func signingKey(secret: String, authorization: Authorization) -> SymmetricKey {
        var key = SymmetricKey(data: Data(("AWS4" + secret).utf8))
        for part in [authorization.date, authorization.region, authorization.service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    package static func sign(_ stringToSign: String, key: SymmetricKey) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
    }

    package static let emptyHash = payloadHash(Data())

    /// Compares in time that does not depend on where the strings differ.
    package static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }

    package static func payloadHash(_ body: Data) -> String { hex(SHA256.hash(data: body)) }

    /// Lowercase hex digits. ShoalStore's `ContentDigest.hex` is the same: this
    /// module stays free of the store (and GRDB) so the fuzzer builds it alone.
    package static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)

    /// RFC 3986 encoding, as SigV4 wants it (every byte but the unreserved ones).
    package static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// `a=1&b=2` (a query, or a form body) as names and values, decoded; a name without `=` has the value "".
    package static func fields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for item in text.split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            fields[decode(String(pair[0]))] = pair.count == 2 ? decode(String(pair[1])) : ""
        }
        return fields
    }

    package static func decode(_ text: String) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }
}
