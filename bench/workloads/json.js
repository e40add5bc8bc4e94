// Build a ~1 MB document of nested objects and arrays, serialise it, then
// parse and re-serialise it three times with JSON.parse and JSON.stringify.
const items = [];
for (let i = 0; i < 6000; i++) {
    const children = [];
    for (let j = 0; j < 3; j++) { children.push({ k: j, v: "n" + (i + j) }); }
    items.push({
        id: i,
        name: "item-" + i,
        active: i % 2 === 0,
        tags: ["t" + i % 7, "g" + i % 11, "c" + i % 13],
        pos: { x: i % 100, y: i * 7 % 100, z: -(i % 17) },
        children: children,
    });
}
const text = JSON.stringify({ count: items.length, items: items });
let total = 0;
for (let r = 0; r < 3; r++) {
    const doc = JSON.parse(text);
    const out = JSON.stringify(doc);
    total += out.length + doc.items[r * 1000].pos.y + doc.count;
}
total;
