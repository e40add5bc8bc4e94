# 200,000 inserts into a dict, then 200,000 lookups summing the values,
# inside a function; the keys come from a function using str().
def key(i):
    return "k" + str(i)


def main():
    m = {}
    for i in range(200000):
        m[key(i)] = i
    total = 0
    for i in range(200000):
        total += m[key(i)]
    return total


result = main()
print(result)
