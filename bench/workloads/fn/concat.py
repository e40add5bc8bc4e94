# A 100,000-piece string built by repeated concatenation inside a function
# that returns it.
def build(n):
    s = ""
    for i in range(n):
        s += "x"
    return s


def main():
    s = build(100000)
    return len(s)


result = main()
print(result)
