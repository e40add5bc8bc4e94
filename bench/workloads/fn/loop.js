// A 1,000,000-iteration while loop decrementing a variable, inside a
// function that returns the result.
function countdown(n) {
    let x = n;
    while (x > 0) {
        x -= 1;
    }
    return x;
}

function main() {
    return countdown(1000000);
}

main();
