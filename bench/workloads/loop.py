# A 1,000,000-iteration while loop decrementing a variable: the interpreter's dispatch cost.
x = 1000000
while x > 0:
    x -= 1
result = x
print(result)
