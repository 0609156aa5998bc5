import Foundation

/// A request as its signature covers it: what the endpoint reads before it
/// knows whose key signed it. Pure (no sockets, no store), so the fuzzer can
/// reach every line of it. `body` is nil while it has not been read (S3 streams it).
package struct SignedRequest {
    package let method: String
    package let rawPath: String
    package let rawQuery: String?
    package let headers: [(name: String, value: String)]
    package var body: Data?

    package init(method: String, rawPath: String, rawQuery: String?, headers: [(name: String, value: String)], body: Data? = nil) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
        self.body = body
    }

    package func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
    package var isJSON: Bool { header("x-amz-target") != nil }

    /// How far a request's X-Amz-Date may be from this host's clock, as AWS allows.
    package static let maxSkew: TimeInterval = 15 * 60

    /// What a request's signature claims, from its Authorization header or,
    /// for a presigned URL, its query.
    package struct Claim {
        package let authorization: SigV4.Authorization
        package let amzDate: String
        package let presigned: Bool
        /// A presigned URL of S3's older scheme (`AWSAccessKeyId`, `Expires`, `Signature`):
        /// boto3's `generate_presigned_url` makes these unless told `s3v4`.
        package var legacyExpires: String? = nil
    }

    /// Reads the claimed signature and checks its time; the signature itself is checked by `check`.
    package func claim(now: Date = Date()) throws(AWSError) -> Claim {
        let json = isJSON
        let incomplete = json ? "IncompleteSignatureException" : "IncompleteSignature"
        if let query = rawQuery, query.contains("AWSAccessKeyId="), query.contains("Signature="), !query.contains("X-Amz-Signature=") {
            return try SigV2.presigned(query: query, now: now)
        }
        if let query = rawQuery, query.contains("X-Amz-Signature=") {
            let fields = SigV4.fields(query)
            guard fields["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256", let credential = fields["X-Amz-Credential"], let amzDate = fields["X-Amz-Date"],
                  let signed = fields["X-Amz-SignedHeaders"], let signature = fields["X-Amz-Signature"],
                  let expires = fields["X-Amz-Expires"].flatMap({ Int($0) })
            else {
                throw AWSError(code: "AuthorizationQueryParametersError", status: 400,
                               message: "a presigned URL needs X-Amz-Algorithm=AWS4-HMAC-SHA256, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature")
            }
            let authorization: SigV4.Authorization
            do {
                authorization = try SigV4.authorization("AWS4-HMAC-SHA256 Credential=\(credential), SignedHeaders=\(signed), Signature=\(signature)")
            } catch { throw AWSError(code: "AuthorizationQueryParametersError", status: 400, message: error.description) }
            guard let signedAt = Self.amzDate(amzDate) else { throw AWSError(code: incomplete, status: 403, message: "X-Amz-Date is not yyyyMMddTHHmmssZ") }
            guard (1...604_800).contains(expires) else {
                throw AWSError(code: "AuthorizationQueryParametersError", status: 400, message: "X-Amz-Expires must be between 1 and 604800 seconds")
            }
            guard now.timeIntervalSince(signedAt) <= TimeInterval(expires), signedAt.timeIntervalSince(now) <= Self.maxSkew else {
                throw AWSError(code: "AccessDenied", status: 403, message: "Request has expired (X-Amz-Date \(amzDate.prefix(32)), X-Amz-Expires \(expires))")
            }
            return Claim(authorization: authorization, amzDate: amzDate, presigned: true)
        }
        guard let header = header("authorization") else {
            throw AWSError(code: json ? "MissingAuthenticationTokenException" : "MissingAuthenticationToken", status: 403, message: "the request is not signed (no Authorization header)")
        }
        let authorization: SigV4.Authorization
        do { authorization = try SigV4.authorization(header) } catch {
            throw AWSError(code: incomplete, status: 403, message: error.description)
        }
        guard let amzDate = self.header("x-amz-date"), let signedAt = Self.amzDate(amzDate) else {
            throw AWSError(code: incomplete, status: 403, message: "X-Amz-Date is missing or not yyyyMMddTHHmmssZ")
        }
        guard abs(signedAt.timeIntervalSince(now)) <= Self.maxSkew else {
            let code = json ? "InvalidSignatureException" : authorization.service == "s3" ? "RequestTimeTooSkewed" : "RequestExpired"
            throw AWSError(code: code, status: 403, message: "Signature expired: \(amzDate) is more than 15 minutes from the server's time (RequestTimeTooSkewed)")
        }
        return Claim(authorization: authorization, amzDate: amzDate, presigned: false)
    }

    /// The claimed signature checked against the key's secret, or the error
    /// AWS would give. `payloadHash` is the hash the signature covers; by
    /// default the body's, read in full (S3 passes the one it checks as the body streams).
    package func check(_ claim: Claim, secret: String, payloadHash: String? = nil) throws(AWSError) {
        let authorization = claim.authorization
        if let expires = claim.legacyExpires {
            guard SigV4.same(SigV2.signature(secret: secret, method: method, rawPath: rawPath, rawQuery: rawQuery, expires: expires), authorization.signature) else {
                throw AWSError(code: "SignatureDoesNotMatch", status: 403, message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
            }
            return
        }
        let payload: String
        if let payloadHash {
            payload = payloadHash
        } else {
            // The body is hashed once, and not at all when the client signed without its hash.
            let sent = header("x-amz-content-sha256")
            if let sent, sent == "UNSIGNED-PAYLOAD" || sent.hasPrefix("STREAMING-") {
                payload = sent
            } else {
                payload = SigV4.payloadHash(body ?? Data())
                guard sent == nil || sent == payload else {
                    throw AWSError(code: "XAmzContentSHA256Mismatch", status: 400, message: "the body's SHA-256 is not the one X-Amz-Content-SHA256 gives")
                }
            }
        }
        // A presigned URL signs its query without the signature itself.
        let query = claim.presigned ? rawQuery?.split(separator: "&").filter { !$0.hasPrefix("X-Amz-Signature=") }.joined(separator: "&") : rawQuery
        let canonical = SigV4.canonicalRequest(
            method: method, rawPath: rawPath, rawQuery: query, headers: headers,
            signedHeaders: authorization.signedHeaders, payloadHash: payload, service: authorization.service
        )
        let expected = SigV4.signature(
            secret: secret, authorization: authorization,
            stringToSign: SigV4.stringToSign(amzDate: claim.amzDate, scope: authorization.scope, canonicalRequest: canonical)
        )
        guard SigV4.same(expected, authorization.signature) else {
            throw AWSError(code: isJSON ? "InvalidSignatureException" : "SignatureDoesNotMatch", status: 403,
                           message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
        }
    }

    /// `yyyyMMddTHHmmssZ`, read by hand: a DateFormatter per request cost more than the signature.
    package static func amzDate(_ text: String) -> Date? {
        let digits = Array(text.utf8)
        guard digits.count == 16, digits[8] == UInt8(ascii: "T"), digits[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in digits[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8), let hour = number(9..<11),
              let minute = number(11..<13), let second = number(13..<15), (1...12).contains(month), (1...31).contains(day),
              hour < 24, minute < 60, second < 61
        else { return nil }
        var time = tm()
        time.tm_year = Int32(year - 1900)
        time.tm_mon = Int32(month - 1)
        time.tm_mday = Int32(day)
        time.tm_hour = Int32(hour)
        time.tm_min = Int32(minute)
        time.tm_sec = Int32(second)
        return Date(timeIntervalSince1970: TimeInterval(timegm(&time)))
    }
}
