# Recursive fib(28), five times, written as users write code: functions with
# explicit return statements.
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main():
    r = 0
    for i in range(5):
        r = fib(28)
    return r


result = main()
print(result)
