// map, filter and reduce with closures over 1,000,000 integers; the mapping
// closure captures a variable.
const k = 3;
const a = [];
for (let i = 0; i < 1000000; i++) { a.push(i); }
const tripled = a.map(x => x * k);
const even = tripled.filter(x => x % 2 === 0);
even.reduce((acc, x) => acc + x, 0);
