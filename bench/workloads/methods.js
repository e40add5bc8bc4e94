// Method calls and property access on an object in a hot loop: 1,000,000
// calls of a method that updates four properties, and of one that reads two.
const stats = {
    total: 0, count: 0, max: -1, min: 1000,
    record(v) {
        this.total += v;
        this.count += 1;
        if (v > this.max) { this.max = v; }
        if (v < this.min) { this.min = v; }
    },
    spread() { return this.max - this.min; },
};
let check = 0;
for (let i = 0; i < 1000000; i++) {
    stats.record(i * 7 % 1000);
    check += stats.spread();
}
stats.total + stats.count + check;
