// Text over 100,000 lines, written as users write code: functions with
// explicit returns and method calls.
function makeLine(i) {
    return `row ${i}: name=item${i % 100}; qty=${i % 7}`;
}

function makeText(n) {
    const lines = [];
    for (let i = 0; i < n; i++) {
        lines.push(makeLine(i));
    }
    return lines.join("\n");
}

function parseLine(line) {
    const fields = line.split(": ")[1].split("; ");
    const name = fields[0].replace("name=", "");
    const qty = parseInt(fields[1].replace("qty=", ""), 10);
    return { name: name, qty: qty };
}

function main() {
    const text = makeText(100000);
    const out = [];
    let total = 0;
    for (const line of text.split("\n")) {
        const row = parseLine(line);
        total += row.qty;
        out.push(`${row.name}:${row.qty * 2}`);
    }
    const joined = out.join(",");
    return text.length + joined.length + total;
}

main();
