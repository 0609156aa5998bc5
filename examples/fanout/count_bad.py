"""Counts the children whose score is above the limit (or that failed), from the
fan-out's gathered results."""


def handler(event, context):
    limit = float(event["limit"])
    bad = [r["item"] for r in event["results"] if r["status"] != "Succeeded" or (r["outputs"].get("score") or 0) > limit]
    print(f"{len(bad)} bad items: {', '.join(bad)}")
    return {"bad_count": len(bad), "bad_items": ",".join(bad)}
