// Recursive fib(28), five times, written as users write code: functions with
// explicit return statements.
function fib(n) {
    if (n < 2) {
        return n;
    }
    return fib(n - 1) + fib(n - 2);
}

function main() {
    let r = 0;
    for (let i = 0; i < 5; i++) {
        r = fib(28);
    }
    return r;
}

main();
