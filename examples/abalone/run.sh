#!/usr/bin/env bash
# Runs the seed's abalone pipeline (the SDK's own definition) on this machine:
# stages a generated abalone-like CSV and the preprocessing script in Shoal's
# object store, registers the seed's Lambda function, and runs the pipeline with
# two processing instances. Extra arguments go to `shoal run`, for example
#   examples/abalone/run.sh --param MseThreshold=0.5     (takes the else branch: MseFail)
# SHOAL (the binary) and SHOAL_HOME (default: a fresh temporary folder) may be set.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shoal=${SHOAL:-$here/../../.build/release/shoal}
export SHOAL_HOME=${SHOAL_HOME:-$(mktemp -d /tmp/shoal-abalone-XXXXXX)}
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
python3 "$here/generate_data.py" 4177 > "$data/abalone-dataset.csv"
"$shoal" cp "$data/abalone-dataset.csv" s3://my-bucket/abalone/abalone-dataset.csv
"$shoal" cp "$here/preprocess.py" s3://my-bucket/code/preprocess.py
"$shoal" functions create --name sagemaker_test_lambda --script "$here/lambda_fn.py" --handler lambda_fn.lambda_handler
"$shoal" run "$here/pipeline.json" --pipeline-name AbalonePipeline --workers 2 "$@"
