#!/usr/bin/env python3
"""A child's first step: scores one item (deterministically, from its name) and
writes the score to metrics.json, the child's property file."""
import argparse
import hashlib
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--item", required=True)
parser.add_argument("--index", type=int, required=True)
args = parser.parse_args()
score = hashlib.sha256(args.item.encode()).digest()[0] / 255
print(f"item {args.index} {args.item}: score {score:.3f}")
os.makedirs("/opt/ml/processing/out", exist_ok=True)
with open("/opt/ml/processing/out/metrics.json", "w") as f:
    json.dump({"item": args.item, "score": score}, f)
