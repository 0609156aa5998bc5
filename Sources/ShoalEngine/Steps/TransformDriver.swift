/// What a batch transform instance runs: the serving contract of SageMaker's
/// framework images (model_fn, input_fn, predict_fn, output_fn from the
/// model's inference code) over its share of the input objects, without an
/// HTTP server in between: records are split, batched, filtered and joined
/// as CreateTransformJob says, in one Python process per instance.
enum TransformDriver {
    static let inputFolder = "/opt/ml/transform/input"
    static let outputFolder = "/opt/ml/transform/output"
    static let modelArchiveFolder = "/opt/ml/shoal/model"

    static let source = ScriptMode.prelude + #"""
        import importlib.util
        config = json.loads(os.environ["SHOAL_TRANSFORM"])
        model_dir, code_dir = "/opt/ml/model", "/opt/ml/code"
        archive = "/opt/ml/shoal/model/model.tar.gz"
        if os.path.exists(archive): unpack(archive, model_dir)
        else: os.makedirs(model_dir, exist_ok=True)
        if os.path.exists("/opt/ml/shoal/code/sourcedir.tar.gz"): unpack("/opt/ml/shoal/code/sourcedir.tar.gz", code_dir)
        elif os.path.isdir(os.path.join(model_dir, "code")): code_dir = os.path.join(model_dir, "code")
        program = config["program"] or "inference.py"
        path = os.path.join(code_dir, program)
        handlers = {}
        if os.path.isfile(path):
            sys.path.insert(0, code_dir)
            spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(program))[0], path)
            module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
            handlers = {name: getattr(module, name) for name in ("model_fn", "input_fn", "predict_fn", "output_fn") if hasattr(module, name)}
        elif config["program"]:
            fail("ClientError: the inference code %r (SAGEMAKER_PROGRAM) is not in the model's code" % program)
        def number(text):
            try: return float(text) if any(c in text for c in ".eE") else int(text)
            except ValueError: return text
        def default_model_fn(directory):
            for name in ("model.joblib", "model.pkl"):
                if os.path.exists(os.path.join(directory, name)):
                    import joblib
                    return joblib.load(os.path.join(directory, name))
            fail("ClientError: the model has no model_fn and no model.joblib or model.pkl in model.tar.gz")
        def default_input_fn(body, content_type):
            if content_type == "text/csv": return [[number(x) for x in line.split(",")] for line in body.split("\n") if line]
            if content_type == "application/json": return json.loads(body)
            if content_type == "application/jsonlines": return [json.loads(line) for line in body.split("\n") if line]
            return body
        def default_predict_fn(data, model): return model.predict(data)
        def default_output_fn(prediction, accept):
            if hasattr(prediction, "tolist"): prediction = prediction.tolist()
            if accept == "application/json": return json.dumps(prediction)
            if accept == "application/jsonlines": return "\n".join(json.dumps(p) for p in prediction)
            if isinstance(prediction, str): return prediction
            return "\n".join(",".join(str(x) for x in p) if isinstance(p, (list, tuple)) else str(p) for p in prediction)
        model_fn = handlers.get("model_fn", default_model_fn)
        input_fn = handlers.get("input_fn", default_input_fn)
        predict_fn = handlers.get("predict_fn", default_predict_fn)
        output_fn = handlers.get("output_fn", default_output_fn)
        model = model_fn(model_dir)

        def select(value, path):
            # The JSONPath subset SageMaker's examples use: $, $[i], $[i:j], $[i,j], $.a.b, $['a'], $['a','b'].
            if path in (None, "", "$"): return value
            try: return walk(value, path)
            except (KeyError, IndexError, TypeError, ValueError) as error:
                fail("ClientError: the JSONPath %r does not fit the record %.200r (%s)" % (path, value, error))
        def walk(value, path):
            if ".." in path or "*" in path or "?" in path:
                fail("ClientError: the JSONPath %r is not one Shoal reads ($, $[i], $[i:j], $[i,j], $.name, $['name'], $['a','b'])" % path)
            rest = path[1:]
            while rest:
                if rest.startswith("."):
                    name = rest[1:].split(".")[0].split("[")[0]; value = value[name]; rest = rest[1 + len(name):]
                elif rest.startswith("["):
                    inside, rest = rest[1:rest.index("]")], rest[rest.index("]") + 1:]
                    keys = [k.strip()[1:-1] for k in inside.split(",")]
                    if inside.startswith("'") or inside.startswith('"'): value = value[keys[0]] if len(keys) == 1 else {k: value[k] for k in keys}
                    elif ":" in inside:
                        a, b = inside.split(":", 1); value = value[int(a) if a else None:int(b) if b else None]
                    elif "," in inside: value = [value[int(i)] for i in inside.split(",")]
                    else: value = value[int(inside)]
                else: fail("ClientError: the JSONPath %r is not one Shoal reads ($, $[i], $[i:j], $[i,j], $.name, $['name'], $['a','b'])" % path)
            return value
        csv_in = config["contentType"] == "text/csv"
        csv_out = config["accept"] == "text/csv"
        def parse(record, is_csv): return record.split(",") if is_csv else json.loads(record)
        def render(value, is_csv):
            if is_csv: return ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
            return json.dumps(value)
        input_filter, output_filter, join = config["inputFilter"], config["outputFilter"], config["joinSource"] == "Input"
        def prepare(record):
            return render(select(parse(record, csv_in), input_filter), csv_in) if input_filter not in (None, "$") else record
        def finish(record, output):
            is_csv = csv_out
            if join:
                if csv_in and csv_out: output = record + "," + output
                else:
                    source = parse(record, csv_in); result = output if csv_out else json.loads(output)
                    output = json.dumps(dict(source, SageMakerOutput=result) if isinstance(source, dict) else list(source) + [result]); is_csv = False
            if output_filter not in (None, "$"): output = render(select(parse(output, is_csv), output_filter), is_csv)
            return output
        per_record = join or output_filter not in (None, "$")
        limit = config["maxPayloadBytes"]
        separator = "\n" if config["assembleWith"] == "Line" else ""
        def transform(records, out):
            payload = "\n".join(prepare(r) for r in records)
            result = output_fn(predict_fn(input_fn(payload, config["contentType"]), model), config["accept"])
            if isinstance(result, bytes): result = result.decode()
            if per_record:
                lines = result.rstrip("\n").split("\n")
                if len(lines) != len(records): fail("ClientError: the model gave %d output lines for %d records; JoinSource and OutputFilter need one per record" % (len(lines), len(records)))
                result = "\n".join(finish(r, o) for r, o in zip(records, lines))
            out.write(result.rstrip("\n") if separator else result); out.write(separator)
        count = 0
        for root, _, files in os.walk("/opt/ml/transform/input"):
            for name in sorted(files):
                source = os.path.join(root, name)
                relative = os.path.relpath(source, "/opt/ml/transform/input")
                target = os.path.join("/opt/ml/transform/output", relative + ".out")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(source, encoding="utf-8") as f, open(target, "w", encoding="utf-8") as out:
                    if config["split"] == "None":
                        body = f.read()
                        if len(body.encode()) > limit: fail("ClientError: %s is %d bytes, over MaxPayloadInMB with SplitType None" % (relative, len(body.encode())))
                        transform([body], out); count += 1; continue
                    batch, size = [], 0
                    for line in f:
                        line = line.rstrip("\n")
                        if not line: continue
                        if len(line) > limit: fail("ClientError: a record of %s is over MaxPayloadInMB" % relative)
                        if batch and (config["batch"] == "SingleRecord" or size + len(line) + 1 > limit):
                            transform(batch, out); count += len(batch); batch, size = [], 0
                        batch.append(line); size += len(line) + 1
                    if batch: transform(batch, out); count += len(batch)
        print("shoal: transformed %d records" % count)
        """#
}
