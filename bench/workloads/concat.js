// A 100,000-piece string built by repeated concatenation.
let s = "";
for (let i = 0; i < 100000; i++) { s += "x"; }
s.length;
