# Method calls and attribute access on an object in a hot loop, written as
# users write code: a class, methods with explicit returns.
class Stats:
    def __init__(self):
        self.total = 0
        self.count = 0
        self.max = -1
        self.min = 1000

    def record(self, v):
        self.total += v
        self.count += 1
        if v > self.max:
            self.max = v
        if v < self.min:
            self.min = v

    def spread(self):
        return abs(self.max - self.min)


def run(n):
    stats = Stats()
    check = 0
    for i in range(n):
        stats.record(i * 7 % 1000)
        check += stats.spread()
    return stats.total + stats.count + check


def main():
    return run(1000000)


result = main()
print(result)
