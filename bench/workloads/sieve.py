# Sieve of Eratosthenes to 1,000,000 over a pre-filled list of booleans, counting primes.
n = 1000000
flags = [True] * (n + 1)
count = 0
i = 2
while i <= n:
    if flags[i]:
        count += 1
        j = i * i
        while j <= n:
            flags[j] = False
            j += i
    i += 1
result = count
print(result)
