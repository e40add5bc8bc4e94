// Sieve of Eratosthenes to 1,000,000 counting primes, inside a function,
// with the bounds read from the array's length.
function countPrimes(n) {
    const flags = new Array(n + 1).fill(true);
    let count = 0;
    let i = 2;
    while (i < flags.length) {
        if (flags[i]) {
            count += 1;
            let j = i * i;
            while (j < flags.length) {
                flags[j] = false;
                j += i;
            }
        }
        i += 1;
    }
    return count;
}

function main() {
    return countPrimes(1000000);
}

main();
