# map, filter and reduce with closures over 1,000,000 integers; the mapping
# closure captures a variable.
from functools import reduce

k = 3
a = list(range(1000000))
tripled = list(map(lambda x: x * k, a))
even = list(filter(lambda x: x % 2 == 0, tripled))
result = reduce(lambda acc, x: acc + x, even, 0)
print(result)
