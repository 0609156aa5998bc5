import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import ShoalCluster
import ShoalStore

/// The web console under `/console/` and Prometheus metrics at `/metrics`,
/// served on the endpoint's port. The endpoint hands over every request it does
/// not sign-check: paths under `/console/` and `/metrics` without an AWS signature.
public struct ConsoleServer: Sendable {
    let home: ShoalHome
    let coordinator: CoordinatorClientPool
    /// On loopback the console is open; elsewhere it asks for the home's token.
    let open: Bool
    /// Served over TLS: the cookie is marked Secure.
    let secure: Bool
    let token: String
    let layouts = LayoutCache()
    let streams = StreamCount()
    public let metrics: ConsoleMetrics

    public init(home: ShoalHome, coordinator: CoordinatorClientPool, bindHost: String, secure: Bool = false) throws {
        self.home = home
        self.secure = secure
        self.coordinator = coordinator
        open = ["127.0.0.1", "localhost", "::1"].contains(bindHost)
        token = try ConsoleToken(home: home).value()
        metrics = ConsoleMetrics(home: home, coordinator: coordinator)
    }

    /// The console's answer, or nil for a request it does not own: its paths
    /// without an AWS signature (an S3 bucket may be called "console").
    public func page(for request: Request) async -> Response? {
        let path = request.uri.path
        guard path == "/metrics" || path == "/console" || path.hasPrefix("/console/") else { return nil }
        guard !(request.headers[.authorization] ?? "").hasPrefix("AWS"), !(request.uri.query ?? "").contains("X-Amz-Signature=") else { return nil }
        return await respond(to: request)
    }

    func respond(to request: Request) async -> Response {
        let path = request.uri.path
        let query = Form.fields(request.uri.query ?? "")
        do {
            if let refusal = try access(request, query: query) { return refusal }
            if path == "/metrics" { return try await metricsPage() }
            let parts = Array(path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }.dropFirst())
            let get = request.method == .get
            let section = parts.first ?? ""
            switch (parts.count, section) {
            case (0, _) where get: return redirect("/console/executions")
            case (2, "static") where get: return try staticFile(parts[1])
            case (1, "executions") where get: return try await html { try ExecutionsPage(home: home, csrf: csrf).render(query: query) }
            case (2, "executions") where get:
                return try await html { try ExecutionPage(home: home, layouts: layouts, csrf: csrf).render(id: parts[1], query: query) }
            case (3, "executions") where get && parts[2] == "events": return try events(parts[1])
            case (3, "executions") where get && parts[2] == "log": return try await logPiece(parts[1], query: query)
            case (3, "executions") where request.method == .post && ["stop", "retry"].contains(parts[2]):
                return try await act(parts[2], id: parts[1], request: request)
            case (1, "pipelines") where get: return try await html { try PipelinesPage(home: home).list() }
            case (2, "pipelines") where get: return try await html { try PipelinesPage(home: home).render(name: parts[1], query: query) }
            case (1, "experiments") where get: return try await html { try ExperimentsPage(home: home).list() }
            case (2, "experiments") where get: return try await html { try ExperimentsPage(home: home).render(name: parts[1], query: query) }
            case (1, "cost") where get: return try await html { try CostPage(home: home).render(query: query) }
            case (1, "cluster") where get:
                let workers = try? await blocking { [coordinator] in try ClusterPage.workers(coordinator) }
                return try await html { try ClusterPage(home: home).render(workers: workers, query: query) }
            default:
                throw ConsoleError.notFound("no console page at \(path) for \(request.method.rawValue)")
            }
        } catch let error as ConsoleError {
            return page(error.status, title: error.title, message: error.message)
        } catch {
            return page(.internalServerError, title: "Something went wrong", message: "\(error)")
        }
    }

    // MARK: Access

    /// The CSRF token of the buttons: derived from the console token, so it
    /// survives restarts and needs no session store.
    var csrf: String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("shoal-console-csrf".utf8), using: SymmetricKey(data: Data(token.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    static let cookieName = "shoal_console"

    /// Nil when the request may go on. Off loopback a browser brings the token
    /// once (`?token=`), gets it back as an HttpOnly, SameSite=Strict cookie and
    /// is sent on without it in the address; a scraper may send it as a bearer token.
    private func access(_ request: Request, query: [String: String]) throws -> Response? {
        if open { return nil }
        if let given = query["token"] {
            guard constantTimeEqual(given, token) else { throw ConsoleError.forbidden("the console token is not right; `shoal console token` prints it") }
            var response = redirect(request.uri.path)
            response.headers[.setCookie] = "\(Self.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
            return response
        }
        let cookies = (request.headers[values: .cookie]).flatMap { $0.split(separator: ";") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let fromCookie = cookies.first { $0.hasPrefix(Self.cookieName + "=") }.map { String($0.dropFirst(Self.cookieName.count + 1)) }
        let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        if let presented = fromCookie ?? bearer, constantTimeEqual(presented, token) { return nil }
        throw ConsoleError.unauthorized
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Stop and retry: a form post carrying the CSRF token, from this origin.
    private func act(_ action: String, id: String, request: Request) async throws -> Response {
        let body = (try? await request.body.collect(upTo: 16 << 10)).map { String(buffer: $0) } ?? ""
        let form = Form.fields(body)
        guard let given = form["csrf"], constantTimeEqual(given, csrf) else {
            throw ConsoleError.forbidden("the form's CSRF token is missing or wrong; reload the page and press the button again")
        }
        // A browser names the page a post came from; it must be this console's own address.
        if let origin = request.headers[.origin], origin != "null", let authority = request.head.authority,
           URL(string: origin).map({ url in
               let host = url.host ?? ""
               return (host.contains(":") ? "[\(host)]" : host) + (url.port.map { ":\($0)" } ?? "")
           }) != authority {
            throw ConsoleError.forbidden("the request came from \(origin), not from this console")
        }
        let message: ApiMessage = action == "stop" ? .stop(executionId: id) : .retry(executionId: id)
        do {
            _ = try await blocking { [coordinator] in try coordinator.request(message) }
        } catch let refused as CoordinatorClient.Refused {
            throw ConsoleError.conflict("cannot \(action) execution \(id): \(refused.description)")
        } catch {
            throw ConsoleError.unavailable("cannot \(action) execution \(id): the coordinator did not answer (\(error))")
        }
        return redirect("/console/executions/\(HTML.component(id))")
    }

    // MARK: Responses

    func html(_ render: @escaping @Sendable () throws -> String) async throws -> Response {
        let text = try await blocking(render)
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private func metricsPage() async throws -> Response {
        let text = try await blocking { [metrics] in try metrics.exposition() }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    private func page(_ status: HTTPResponse.Status, title: String, message: String) -> Response {
        let body = ConsolePage.render(title: title, section: nil, body: "<h1>\(HTML.escape(title))</h1><p>\(HTML.escape(message))</p>")
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The console's stylesheet and script are the binary's own; Chart.js is
    /// served from where Debian's libjs-chart.js puts it.
    private func staticFile(_ name: String) throws -> Response {
        let (text, type): (String, String)
        switch name {
        case "console.css": (text, type) = (ConsolePage.stylesheet, "text/css")
        case "console.js": (text, type) = (ConsoleScript.source, "text/javascript")
        case "chart.js":
            let path = "/usr/share/javascript/chart.js/chart.min.js"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConsoleError.notFound("Chart.js is not installed at \(path) (Debian: apt-get install libjs-chart.js)")
            }
            return Response(status: .ok, headers: [.contentType: "text/javascript", .cacheControl: "max-age=3600"], body: .init(byteBuffer: ByteBuffer(data: data)))
        default: throw ConsoleError.notFound("no console file '\(name)'")
        }
        return Response(status: .ok, headers: [.contentType: type + "; charset=utf-8", .cacheControl: "max-age=60"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

struct ConsoleError: Error {
    let status: HTTPResponse.Status
    let title: String
    let message: String

    static func notFound(_ message: String) -> ConsoleError { ConsoleError(status: .notFound, title: "Not found", message: message) }
    static func forbidden(_ message: String) -> ConsoleError { ConsoleError(status: .forbidden, title: "Forbidden", message: message) }
    static func conflict(_ message: String) -> ConsoleError { ConsoleError(status: .conflict, title: "Not possible now", message: message) }
    static func unavailable(_ message: String) -> ConsoleError { ConsoleError(status: .serviceUnavailable, title: "Unavailable", message: message) }
    static func invalid(_ message: String) -> ConsoleError { ConsoleError(status: .badRequest, title: "Bad request", message: message) }
    static let unauthorized = ConsoleError(
        status: .unauthorized, title: "The console needs its token",
        message: "This console is not on loopback. Run `shoal console token` on the coordinator's host and open /console/?token=TOKEN once."
    )
}

/// `a=1&b=two+words`: query strings and form bodies.
enum Form {
    static func fields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&").prefix(64) {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let decode = { (part: Substring) in part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part) }
            guard let name = parts.first.map(decode) else { continue }
            fields[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}
