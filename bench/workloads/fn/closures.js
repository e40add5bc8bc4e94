// map, filter and reduce with closures over 1,000,000 integers, written as
// users write code: inside functions, closures with explicit returns.
function sumEvenMultiples(a, k) {
    const multiples = a.map((x) => {
        return x * k;
    });
    const even = multiples.filter((x) => {
        return x % 2 === 0;
    });
    return even.reduce((acc, x) => {
        return acc + x;
    }, 0);
}

function main() {
    const a = [];
    for (let i = 0; i < 1000000; i++) {
        a.push(i);
    }
    return sumEvenMultiples(a, 3);
}

main();
