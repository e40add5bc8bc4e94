# Sorting 200,000 Park-Miller integers with the built-in sort, written as
# users write code: a generator function, a list builder, method calls.
def next_random(x):
    return x * 16807 % 2147483647


def random_list(n, seed):
    a = []
    x = seed
    for i in range(n):
        x = next_random(x)
        a.append(x)
    return a


def main():
    a = random_list(200000, 12345)
    a.sort()
    return a[len(a) // 2]


result = main()
print(result)
