import Crypto
import Foundation
import ShoalDefinition
import ShoalEngine

/// Graph layouts by definition digest: a definition's layout never changes,
/// and dot takes a second or more on a graph of a thousand steps, so each is
/// drawn once per process. Statuses are applied to the cached drawing.
final class LayoutCache: @unchecked Sendable {
    private let lock = NSLock()
    private var drawings: [String: String] = [:]
    private var order: [String] = []
    /// Enough for the executions someone looks at; each drawing is kept whole.
    static let capacity = 64

    func svg(definition: String, graph: PipelineGraph) throws -> String {
        let digest = SHA256.hash(data: Data(definition.utf8)).map { String(format: "%02x", $0) }.joined()
        if let drawing = lock.withLock({ drawings[digest] }) { return drawing }
        let drawing = try GraphLayout.svg(graph, title: "pipeline")
        lock.withLock {
            if drawings[digest] == nil { order.append(digest) }
            drawings[digest] = drawing
            while order.count > Self.capacity { drawings[order.removeFirst()] = nil }
        }
        return drawing
    }

    /// The drawing with each step's group marked with its status (one pass over the text).
    static func marked(_ svg: String, statuses: [Int: String]) -> String {
        let marker = "<g id=\"step"
        var parts = svg.components(separatedBy: marker)
        guard parts.count > 1 else { return svg }
        for position in 1..<parts.count {
            let part = parts[position]
            guard let quote = part.firstIndex(of: "\""), let index = Int(part[..<quote]), let status = statuses[index] else { continue }
            parts[position] = part[..<quote] + "\" data-status=\"\(status)" + part[quote...]
        }
        return parts.joined(separator: marker)
    }
}
