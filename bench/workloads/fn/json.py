# Build a ~1 MB document of nested objects and arrays, serialise it, then
# parse and re-serialise it three times, written as users write code:
# functions with explicit return statements.
import json


def make_item(i):
    children = []
    for j in range(3):
        children.append({"k": j, "v": "n" + str(i + j)})
    return {
        "id": i,
        "name": "item-" + str(i),
        "active": i % 2 == 0,
        "tags": ["t" + str(i % 7), "g" + str(i % 11), "c" + str(i % 13)],
        "pos": {"x": i % 100, "y": i * 7 % 100, "z": -(i % 17)},
        "children": children,
    }


def make_document(n):
    items = []
    for i in range(n):
        items.append(make_item(i))
    return {"count": len(items), "items": items}


def main():
    text = json.dumps(make_document(6000), separators=(",", ":"))
    total = 0
    for r in range(3):
        doc = json.loads(text)
        out = json.dumps(doc, separators=(",", ":"))
        total += len(out) + doc["items"][r * 1000]["pos"]["y"] + doc["count"]
    return total


result = main()
print(result)
