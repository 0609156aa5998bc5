import Foundation
import ShoalDefinition

/// SageMaker's script mode, as its framework containers (sagemaker-training-toolkit)
/// run it: the source directory unpacked in /opt/ml/code, the entry point run
/// with the hyperparameters as `--name value`, and the SM_* environment.
enum ScriptMode {
    /// Where the staged `sagemaker_submit_directory` archive lies in the instance.
    static let archiveFolder = "/opt/ml/shoal/code"
    static let archiveName = "sourcedir.tar.gz"

    /// The SM_* variables the toolkit sets (those a script reads).
    static func environment(
        currentHost: String, hosts: [String], channels: [String], hyperparameters: OrderedFields<JSONValue>, program: String?,
        instanceType: String, jobName: String
    ) -> [String: String] {
        var environment: [String: String] = [
            "SM_MODEL_DIR": "/opt/ml/model", "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data", "SM_OUTPUT_DIR": "/opt/ml/output",
            "SM_INPUT_DIR": "/opt/ml/input", "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config", "SM_INPUT_DATA_CONFIG": "{}",
            "SM_CURRENT_HOST": currentHost, "SM_HOSTS": JSONWriter.string(.array(hosts.map(JSONValue.string))),
            "SM_NETWORK_INTERFACE_NAME": "lo", "SM_CURRENT_INSTANCE_TYPE": instanceType, "SM_NUM_GPUS": "0",
            "SM_NUM_CPUS": String(ProcessInfo.processInfo.activeProcessorCount), "SM_CHANNELS": JSONWriter.string(.array(channels.map(JSONValue.string))),
            "SM_HPS": JSONWriter.string(.object(hyperparameters)), "SM_MODULE_DIR": "/opt/ml/code", "TRAINING_JOB_NAME": jobName,
            "SM_USER_ARGS": JSONWriter.string(.array(arguments(hyperparameters).map(JSONValue.string))),
        ]
        for channel in channels { environment["SM_CHANNEL_\(channel.uppercased())"] = "/opt/ml/input/data/\(channel)" }
        for (key, value) in hyperparameters.entries { environment["SM_HP_\(key.uppercased())"] = ValueRendering.string(value) }
        if let program {
            environment["SM_USER_ENTRY_POINT"] = program
            environment["SM_MODULE_NAME"] = String(program.split(separator: "/").last ?? "").replacingOccurrences(of: ".py", with: "")
        }
        environment["SM_TRAINING_ENV"] = JSONWriter.string(.object([
            "current_host": .string(currentHost), "hosts": .array(hosts.map(JSONValue.string)), "model_dir": "/opt/ml/model",
            "output_data_dir": "/opt/ml/output/data", "channel_input_dirs": .object(OrderedFields(channels.map { ($0, JSONValue.string("/opt/ml/input/data/\($0)")) })),
            "hyperparameters": .object(hyperparameters), "job_name": .string(jobName), "user_entry_point": program.map(JSONValue.string) ?? .null,
        ]))
        return environment
    }

    /// `--name value` for each hyperparameter, values rendered as the toolkit does (strings bare, the rest as JSON).
    static func arguments(_ hyperparameters: OrderedFields<JSONValue>) -> [String] {
        hyperparameters.entries.flatMap { key, value -> [String] in
            if case let .string(text) = value { return ["--\(key)", text] }
            return ["--\(key)", JSONWriter.string(value)]
        }
    }

    /// What every instance-side Python of Shoal's starts with: `fail` (the
    /// reason in /opt/ml/output/failure, as SageMaker's toolkits write it) and
    /// `unpack` (a tar.gz, refusing members that would leave the folder; the
    /// system's Python 3.11.2 predates tarfile's extraction filters).
    static let prelude = #"""
        import json, os, sys, tarfile
        def fail(message):
            os.makedirs("/opt/ml/output", exist_ok=True)
            with open("/opt/ml/output/failure", "w") as f: f.write(message)
            sys.stderr.write(message + "\n"); sys.exit(1)
        def unpack(archive, into):
            os.makedirs(into, exist_ok=True)
            with tarfile.open(archive) as t:
                members = []
                for m in t.getmembers():
                    if m.name.startswith("/") or ".." in m.name.split("/"): fail("ClientError: %s: member %r would leave %s" % (os.path.basename(archive), m.name, into))
                    if m.isfile() or m.isdir(): members.append(m)
                t.extractall(into, members=members)

        """#

    /// Unpacks the source directory and becomes the entry point, run by this
    /// same python with the user's arguments.
    static let launcher = prelude + #"""
        code, archive = "/opt/ml/code", "/opt/ml/shoal/code/sourcedir.tar.gz"
        if os.path.exists(archive): unpack(archive, code)
        program = os.environ.get("SM_USER_ENTRY_POINT", "")
        path = program if os.path.isabs(program) else os.path.join(code, program)
        if not os.path.isfile(path): fail("ClientError: the entry point %r (sagemaker_program) is not in the source directory" % program)
        os.chdir(os.path.dirname(path))
        os.environ["PYTHONPATH"] = os.pathsep.join([code] + [p for p in [os.environ.get("PYTHONPATH")] if p])
        os.execv(sys.executable, [sys.executable, path] + json.loads(os.environ.get("SM_USER_ARGS", "[]")))
        """#
}
