// Sorting 200,000 integers with the built-in sort. The integers come from the
// Park-Miller generator, whose products stay below 2^53, so engines whose
// numbers are doubles (Lua 5.1, JavaScript) produce the same sequence.
const a = [];
let x = 12345;
for (let i = 0; i < 200000; i++) { x = x * 16807 % 2147483647; a.push(x); }
a.sort((p, q) => p - q);
a[100000];
