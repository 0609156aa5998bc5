#!/usr/bin/env python3
"""The seed's "different portions of data" pattern: every instance gets the whole
item list in its arguments and works on its own share, chosen by its host index
from /opt/ml/config/resourceconfig.json (item i goes to host (i mod N) + 1)."""
import argparse
import hashlib
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--items", required=True, help="comma-separated item names")
args = parser.parse_args()

with open("/opt/ml/config/resourceconfig.json") as f:
    config = json.load(f)
hosts = config["hosts"]
index = hosts.index(config["current_host"])
items = [item for item in args.items.split(",") if item]
mine = [item for i, item in enumerate(items) if i % len(hosts) == index]
print(f"{config['current_host']}: {len(mine)} of {len(items)} items: {', '.join(mine)}")

out = "/opt/ml/processing/output"
os.makedirs(out, exist_ok=True)
for item in mine:
    digest = hashlib.sha256(item.encode()).hexdigest()
    with open(os.path.join(out, f"{item}.json"), "w") as f:
        json.dump({"item": item, "host": config["current_host"], "sha256": digest}, f)
