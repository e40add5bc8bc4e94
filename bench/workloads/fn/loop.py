# A 1,000,000-iteration while loop decrementing a variable, inside a
# function that returns the result.
def countdown(n):
    x = n
    while x > 0:
        x -= 1
    return x


def main():
    return countdown(1000000)


result = main()
print(result)
