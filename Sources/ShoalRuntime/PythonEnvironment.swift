import Foundation

/// The virtual environments of the `python` runtime on this host: one folder
/// per requirements digest, built once (under a lock, so concurrent instances
/// share one build) and then only mounted, read-only, into each instance.
public struct PythonEnvironment: Sendable {
    public let name: String
    public let requirements: [String]
    /// Where environments live: the system's cache as root, else this user's
    /// own folder in the temporary folder. Shared by every worker and home of
    /// the host, so an environment is built once per host, not per worker.
    public let folder: String

    public init(name: String, requirements: [String], folder: String = PythonEnvironment.cacheFolder) {
        self.name = name
        self.requirements = requirements
        self.folder = folder
    }

    public var path: String { folder + "/" + name }
    public var isReady: Bool { FileManager.default.fileExists(atPath: path + "/" + Self.readyMarker) }
    var failurePath: String { path + ".failed" }

    /// Where the environment is mounted in a sandboxed instance (its python
    /// finds its packages from where it is started, so the place can differ from the host's).
    public static let mountPoint = "/opt/ml/shoal/runtime"
    /// The interpreter environments are made from: the system's, which every
    /// job's root carries under /usr.
    public static let interpreter = "/usr/bin/python3"
    /// A build that failed is not tried again on this host for this long.
    public static let failureMemorySeconds = 600
    /// A build running longer than this is stopped and counted as failed.
    public static let maxBuildSeconds: Double = 1800
    static let readyMarker = ".shoal-ready"

    public static let cacheFolder: String = SandboxMode.cacheFolder(system: "/var/cache/shoal/runtimes", own: "shoal-runtimes")

    /// Why the last build failed, if it did.
    public var failure: String? {
        guard let data = FileManager.default.contents(atPath: failurePath), !data.isEmpty else { return nil }
        return String(decoding: data.prefix(2048), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The command that builds the environment if it is not built yet (waiting
    /// for a build already under way), printing its progress; it exits 0 once
    /// the environment is ready and otherwise leaves the reason in `failurePath`.
    public func buildCommand() throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let requirementsFile = path + ".requirements"
        let text = requirements.joined(separator: "\n") + (requirements.isEmpty ? "" : "\n")
        if (try? String(contentsOfFile: requirementsFile, encoding: .utf8)) != text {
            try Data(text.utf8).write(to: URL(fileURLWithPath: requirementsFile), options: .atomic)
        }
        return ["/bin/bash", "-c", Self.script, "shoal-runtime", path, requirementsFile, Self.interpreter, String(Self.failureMemorySeconds / 60)]
    }

    /// Binary wheels only: a source build needs compilers the host may lack and
    /// can run for an hour before failing; a missing wheel fails at once, naming the requirement.
    private static let script = #"""
        set -u -o pipefail
        dir=$1 requirements=$2 python=$3 minutes=$4
        exec 9>"$dir.lock"
        flock -n 9 || { echo "shoal: waiting for the python environment ${dir##*/}, which another instance is building on this host"; flock 9; }
        [ -f "$dir/.shoal-ready" ] && exit 0
        if [ -s "$dir.failed" ] && [ -z "$(find "$dir.failed" -mmin +"$minutes")" ]; then
            echo "shoal: the python environment ${dir##*/} failed to build less than $minutes minutes ago on this host; not trying again yet"
            exit 1
        fi
        rm -rf "$dir" "$dir.failed"
        count=$(grep -cv '^\s*\(#\|-\|$\)' "$requirements")
        echo "shoal: building the python environment ${dir##*/} ($count requirements) with $python"
        started=$SECONDS
        if [ "$count" = 0 ]; then venv_options=--without-pip; else venv_options=; fi
        if ! "$python" -m venv $venv_options "$dir" > "$dir.build.log" 2>&1; then
            { echo "cannot make a virtual environment with $python (is python3-venv installed?):"; tail -n 3 "$dir.build.log"; } > "$dir.failed"
            cat "$dir.failed"; exit 1
        fi
        if [ "$count" != 0 ]; then
            # An index that cannot be reached is tried three times, 10 s apart: a
            # network that drops for a moment should not fail a pipeline.
            for attempt in 1 2 3; do
                if "$dir/bin/python3" -m pip install --disable-pip-version-check --no-input --progress-bar off --only-binary=:all: -r "$requirements" 2>&1 | tee "$dir.build.log"; then
                    installed=1; break
                fi
                installed=0
                grep -q -E 'NewConnectionError|name resolution|ConnectTimeout|ReadTimeout|ProxyError' "$dir.build.log" || break
                [ "$attempt" = 3 ] || { echo "shoal: the package index could not be reached (attempt $attempt of 3); trying again in 10 s"; sleep 10; }
            done
            if [ "$installed" = 0 ]; then
                { echo "pip could not install the requirements:"; grep '^ERROR:' "$dir.build.log" | tail -n 3 || tail -n 3 "$dir.build.log"; } > "$dir.failed"
                # A package index that could not be reached is remembered for 30 s only: the next instance tries again.
                if grep -q -E 'NewConnectionError|name resolution|ConnectTimeout|ReadTimeout|ProxyError' "$dir.build.log"; then
                    echo "(the package index could not be reached from this worker)" >> "$dir.failed"
                    touch -d "@$(( $(date +%s) - minutes * 60 + 30 ))" "$dir.failed"
                fi
                cat "$dir.failed"; exit 1
            fi
        fi
        rm -f "$dir.build.log"
        touch "$dir/.shoal-ready"
        echo "shoal: the python environment ${dir##*/} is ready ($((SECONDS - started)) s)"
        """#
}
