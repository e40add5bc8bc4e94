// Text over 100,000 lines: build them by interpolation and join them, then
// split the text, split each line, replace in a field, parse a number and
// join the results.
const lines = [];
for (let i = 0; i < 100000; i++) {
    lines.push(`row ${i}: name=item${i % 100}; qty=${i % 7}`);
}
const text = lines.join("\n");
const out = [];
let total = 0;
for (const line of text.split("\n")) {
    const fields = line.split(": ")[1].split("; ");
    const name = fields[0].replace("name=", "");
    const qty = parseInt(fields[1].replace("qty=", ""), 10);
    total += qty;
    out.push(`${name}:${qty * 2}`);
}
const joined = out.join(",");
text.length + joined.length + total;
