// 200,000 inserts into a map keyed by "k" + i, then 200,000 lookups summing the values.
const m = {};
for (let i = 0; i < 200000; i++) { m["k" + i] = i; }
let sum = 0;
for (let i = 0; i < 200000; i++) { sum += m["k" + i]; }
sum;
