/// What an instance's image runs as on a worker, decided by the coordinator's
/// image map (`shoal images`).
public enum JobRuntime: Codable, Sendable, Equatable {
    /// The host's own programs, as they are.
    case host
    /// A Python virtual environment made from `requirements` (pip requirement
    /// lines, already pinned), built once per worker host and named `name`
    /// (from the requirements' digest); the job's `python3` is its python.
    case python(name: String, requirements: [String])
    /// A container image run with podman, by its own entrypoint unless the
    /// step names one; `/opt/ml` is the instance's folder.
    case oci(image: String)

    public var summary: String {
        switch self {
        case .host: "host"
        case let .python(name, requirements): "python (\(name), \(requirements.count) requirement\(requirements.count == 1 ? "" : "s"))"
        case let .oci(image): "oci (\(image))"
        }
    }
}
