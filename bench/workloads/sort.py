# Sorting 200,000 integers with the built-in sort. The integers come from the
# Park-Miller generator, whose products stay below 2^53, so engines whose
# numbers are doubles (Lua 5.1, JavaScript) produce the same sequence.
a = []
x = 12345
for i in range(200000):
    x = x * 16807 % 2147483647
    a.append(x)
a.sort()
result = a[100000]
print(result)
