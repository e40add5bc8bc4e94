// Sorting 200,000 Park-Miller integers with the built-in sort, written as
// users write code: a generator function, a list builder, method calls.
function nextRandom(x) {
    return x * 16807 % 2147483647;
}

function randomList(n, seed) {
    const a = [];
    let x = seed;
    for (let i = 0; i < n; i++) {
        x = nextRandom(x);
        a.push(x);
    }
    return a;
}

function main() {
    const a = randomList(200000, 12345);
    a.sort((p, q) => p - q);
    return a[a.length / 2];
}

main();
