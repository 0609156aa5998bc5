import AWSSignature
import Foundation
import ShoalEngine

/// STS and IAM (the query protocol: a form body, an XML answer): what SDK
/// sessions ask before they work — who the caller is, and whether a role
/// trusts SageMaker.
struct QueryAPI: Sendable {
    func handle(service: String, form: [String: String], principal: String, requestId: String) throws -> String {
        let action = form["Action"] ?? ""
        switch (service, action) {
        case ("sts", "GetCallerIdentity"):
            return """
                <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>\
                <Arn>arn:aws:iam::\(Identifiers.account):user/\(XML.escape(principal))</Arn><UserId>\(XML.escape(principal))</UserId>\
                <Account>\(Identifiers.account)</Account></GetCallerIdentityResult>\
                <ResponseMetadata><RequestId>\(requestId)</RequestId></ResponseMetadata></GetCallerIdentityResponse>
                """
        case ("iam", "GetRole"):
            // Every role trusts SageMaker here: jobs run as the sandbox's user whatever the role says.
            guard let name = form["RoleName"], !name.isEmpty else { throw AWSError(code: "ValidationError", status: 400, message: "RoleName is required") }
            let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
            return """
                <GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role><Path>/</Path>\
                <RoleName>\(XML.escape(name))</RoleName><RoleId>AROASHOAL\(XML.escape(String(name.prefix(12)).uppercased()))</RoleId>\
                <Arn>arn:aws:iam::\(Identifiers.account):role/\(XML.escape(name))</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate>\
                <AssumeRolePolicyDocument>\(SigV4.encode(trust, keepSlash: false))</AssumeRolePolicyDocument></Role></GetRoleResult>\
                <ResponseMetadata><RequestId>\(requestId)</RequestId></ResponseMetadata></GetRoleResponse>
                """
        default:
            throw AWSError(code: "InvalidAction", status: 400, message: "Shoal does not implement \(service.uppercased()) \(action.isEmpty ? "(no Action)" : action) yet")
        }
    }

    /// `a=1&b=2` as a form body carries it.
    static func form(_ body: Data) -> [String: String] { SigV4.fields(String(decoding: body, as: UTF8.self)) }
}
