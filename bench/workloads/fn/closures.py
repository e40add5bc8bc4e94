# map, filter and reduce with closures over 1,000,000 integers, written as
# users write code: inside functions, nested functions with explicit returns.
from functools import reduce


def sum_even_multiples(a, k):
    def times_k(x):
        return x * k

    def is_even(x):
        return x % 2 == 0

    def add(acc, x):
        return acc + x

    multiples = list(map(times_k, a))
    even = list(filter(is_even, multiples))
    return reduce(add, even, 0)


def main():
    a = []
    for i in range(1000000):
        a.append(i)
    return sum_even_multiples(a, 3)


result = main()
print(result)
