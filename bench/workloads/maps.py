# 200,000 inserts into a dict keyed by "k" + str(i), then 200,000 lookups summing the values.
m = {}
for i in range(200000):
    m["k" + str(i)] = i
total = 0
for i in range(200000):
    total += m["k" + str(i)]
result = total
print(result)
