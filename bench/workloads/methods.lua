-- Method calls and field access on a table in a hot loop: 1,000,000 calls of
-- a method that updates four fields, and of one that reads two.
local stats = { total = 0, count = 0, max = -1, min = 1000 }
function stats:record(v)
    self.total = self.total + v
    self.count = self.count + 1
    if v > self.max then self.max = v end
    if v < self.min then self.min = v end
end
function stats:spread() return self.max - self.min end
local check = 0
for i = 0, 999999 do
    stats:record(i * 7 % 1000)
    check = check + stats:spread()
end
return stats.total + stats.count + check
