// Build a ~1 MB document of nested objects and arrays, serialise it, then
// parse and re-serialise it three times, written as users write code:
// functions with explicit return statements and method calls.
function makeItem(i) {
    const children = [];
    for (let j = 0; j < 3; j++) {
        children.push({ k: j, v: "n" + (i + j).toString() });
    }
    return {
        id: i,
        name: "item-" + i.toString(),
        active: i % 2 === 0,
        tags: ["t" + (i % 7).toString(), "g" + (i % 11).toString(), "c" + (i % 13).toString()],
        pos: { x: i % 100, y: i * 7 % 100, z: -(i % 17) },
        children: children,
    };
}

function makeDocument(n) {
    const items = [];
    for (let i = 0; i < n; i++) {
        items.push(makeItem(i));
    }
    return { count: items.length, items: items };
}

function main() {
    const text = JSON.stringify(makeDocument(6000));
    let total = 0;
    for (let r = 0; r < 3; r++) {
        const doc = JSON.parse(text);
        const out = JSON.stringify(doc);
        total += out.length + doc.items[r * 1000].pos.y + doc.count;
    }
    return total;
}

main();
