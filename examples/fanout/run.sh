#!/usr/bin/env bash
# Fan-out with gathered results: registers the child pipeline (score one item →
# property file), then runs the parent, whose Shoal:Map step starts one child
# per item (4 at a time), gathers each child's score, and whose condition fails
# the run when more than BadThreshold children scored above MetricLimit.
# SHOAL and SHOAL_HOME may be set as for abalone; extra arguments go to `shoal run`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shoal=${SHOAL:-$here/../../.build/release/shoal}
export SHOAL_HOME=${SHOAL_HOME:-$(mktemp -d /tmp/shoal-fanout-XXXXXX)}
"$shoal" cp "$here/score.py" s3://my-bucket/fanout/code/score.py
"$shoal" functions create --name count-bad --script "$here/count_bad.py" --handler count_bad.handler
"$shoal" pipelines create score-item --definition "$here/child.json" 2>/dev/null \
  || "$shoal" pipelines update score-item --definition "$here/child.json"
"$shoal" run "$here/pipeline.json" --pipeline-name FanOutPipeline --workers 2 "$@"
