# A 100,000-piece string built by repeated concatenation.
s = ""
for i in range(100000):
    s += "x"
result = len(s)
print(result)
