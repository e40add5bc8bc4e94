// Sieve of Eratosthenes to 1,000,000 over a pre-filled array of booleans, counting primes.
const n = 1000000;
const flags = new Array(n + 1).fill(true);
let count = 0;
let i = 2;
while (i <= n) {
    if (flags[i]) {
        count += 1;
        let j = i * i;
        while (j <= n) { flags[j] = false; j += i; }
    }
    i += 1;
}
count;
