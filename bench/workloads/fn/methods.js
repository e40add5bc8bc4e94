// Method calls and property access on an object in a hot loop, written as
// users write code: a class, methods with explicit returns.
class Stats {
    constructor() {
        this.total = 0;
        this.count = 0;
        this.max = -1;
        this.min = 1000;
    }

    record(v) {
        this.total += v;
        this.count += 1;
        if (v > this.max) {
            this.max = v;
        }
        if (v < this.min) {
            this.min = v;
        }
    }

    spread() {
        return Math.abs(this.max - this.min);
    }
}

function run(n) {
    const stats = new Stats();
    let check = 0;
    for (let i = 0; i < n; i++) {
        stats.record(i * 7 % 1000);
        check += stats.spread();
    }
    return stats.total + stats.count + check;
}

function main() {
    return run(1000000);
}

main();
