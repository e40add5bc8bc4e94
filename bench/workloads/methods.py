# Method calls and attribute access on an object in a hot loop: 1,000,000
# calls of a method that updates four attributes, and of one that reads two.
class Stats:
    def __init__(self):
        self.total, self.count, self.max, self.min = 0, 0, -1, 1000

    def record(self, v):
        self.total += v
        self.count += 1
        if v > self.max:
            self.max = v
        if v < self.min:
            self.min = v

    def spread(self):
        return self.max - self.min

stats = Stats()
check = 0
for i in range(1000000):
    stats.record(i * 7 % 1000)
    check += stats.spread()
result = stats.total + stats.count + check
print(result)
