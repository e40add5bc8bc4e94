// A 100,000-piece string built by repeated concatenation inside a function
// that returns it.
function build(n) {
    let s = "";
    for (let i = 0; i < n; i++) {
        s += "x";
    }
    return s;
}

function main() {
    const s = build(100000);
    return s.length;
}

main();
