#!/usr/bin/env bash
# The seed's "different portions of data" pattern: one processing step with
# InstanceCount 4 and the item list in ContainerArguments; each instance works on
# its share by its host index. SHOAL and SHOAL_HOME may be set as for abalone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shoal=${SHOAL:-$here/../../.build/release/shoal}
export SHOAL_HOME=${SHOAL_HOME:-$(mktemp -d /tmp/shoal-items-XXXXXX)}
"$shoal" cp "$here/process_items.py" s3://my-bucket/code/process_items.py
"$shoal" run "$here/pipeline.json" --pipeline-name ItemsPipeline --workers 4 "$@"
