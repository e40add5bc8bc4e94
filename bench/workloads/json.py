# Build a ~1 MB document of nested objects and arrays, serialise it, then
# parse and re-serialise it three times with the json module.
import json

items = []
for i in range(6000):
    items.append({
        "id": i,
        "name": "item-" + str(i),
        "active": i % 2 == 0,
        "tags": ["t" + str(i % 7), "g" + str(i % 11), "c" + str(i % 13)],
        "pos": {"x": i % 100, "y": i * 7 % 100, "z": -(i % 17)},
        "children": [{"k": j, "v": "n" + str(i + j)} for j in range(3)],
    })
text = json.dumps({"count": len(items), "items": items}, separators=(",", ":"))
total = 0
for r in range(3):
    doc = json.loads(text)
    out = json.dumps(doc, separators=(",", ":"))
    total += len(out) + doc["items"][r * 1000]["pos"]["y"] + doc["count"]
result = total
print(result)
