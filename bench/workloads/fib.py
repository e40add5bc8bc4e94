# Recursive fib(28), five times: script function calls and integer arithmetic.
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

result = 0
for i in range(5):
    result = fib(28)
print(result)
