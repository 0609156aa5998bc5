import Foundation
import ShoalRuntime
import ShoalStore

/// Merges what every instance of a job staged for each output and commits it
/// into the object store. All conflicts are found before the first rename, so
/// a refused commit leaves the store untouched.
enum OutputCommit {
    struct Conflict: Error, CustomStringConvertible {
        let description: String
    }

    struct StagedInstance {
        let host: Int
        let outcome: InstanceOutcome
    }

    /// Returns the objects committed.
    @discardableResult
    static func commit(outputs: [ProcessingJobPlan.Output], instances: [StagedInstance], into store: ObjectStore) throws -> [S3URI] {
        var plan: [(source: String, target: S3URI)] = []
        for output in outputs {
            for (relative, path) in try merged(output.name, instances: instances) {
                plan.append((path, try output.uri.appending(relative)))
            }
        }
        for (source, target) in plan { try store.commit(file: source, to: target) }
        return plan.map(\.target)
    }

    /// The union of what every instance staged for one output (relative path →
    /// staged file), sorted by path; the same path with different contents is a conflict.
    static func merged(_ name: String, instances: [StagedInstance]) throws -> [(relative: String, path: String)] {
        var chosen: [String: (host: Int, path: String)] = [:]
        for instance in instances.sorted(by: { $0.host < $1.host }) {
            guard let staged = instance.outcome.outputs.first(where: { $0.name == name }) else { continue }
            for relative in staged.files {
                let path = staged.stagedAt + "/" + relative
                if let earlier = chosen[relative] {
                    if !FileManager.default.contentsEqual(atPath: earlier.path, andPath: path) {
                        throw Conflict(description: "Output '\(name)': algo-\(earlier.host) and algo-\(instance.host) both wrote '\(relative)' with different contents; Shoal does not pick one.")
                    }
                    continue
                }
                chosen[relative] = (instance.host, path)
            }
        }
        return chosen.keys.sorted().map { ($0, chosen[$0]!.path) }
    }
}
