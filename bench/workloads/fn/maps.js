// 200,000 inserts into an object, then 200,000 lookups summing the values,
// inside a function; the keys come from a function using toString().
function key(i) {
    return "k" + i.toString();
}

function main() {
    const m = {};
    for (let i = 0; i < 200000; i++) {
        m[key(i)] = i;
    }
    let sum = 0;
    for (let i = 0; i < 200000; i++) {
        sum += m[key(i)];
    }
    return sum;
}

main();
