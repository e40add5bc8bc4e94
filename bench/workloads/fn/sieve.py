# Sieve of Eratosthenes to 1,000,000 counting primes, inside a function,
# with the bounds read from the list's length.
def count_primes(n):
    flags = [True] * (n + 1)
    count = 0
    i = 2
    while i < len(flags):
        if flags[i]:
            count += 1
            j = i * i
            while j < len(flags):
                flags[j] = False
                j += i
        i += 1
    return count


def main():
    return count_primes(1000000)


result = main()
print(result)
