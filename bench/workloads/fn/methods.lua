-- Method calls and field access on a table in a hot loop, written as users
-- write code: a class through a metatable, methods with explicit returns.
local Stats = {}
Stats.__index = Stats

function Stats.new()
    return setmetatable({ total = 0, count = 0, max = -1, min = 1000 }, Stats)
end

function Stats:record(v)
    self.total = self.total + v
    self.count = self.count + 1
    if v > self.max then
        self.max = v
    end
    if v < self.min then
        self.min = v
    end
end

function Stats:spread()
    return math.abs(self.max - self.min)
end

local function run(n)
    local stats = Stats.new()
    local check = 0
    for i = 0, n - 1 do
        stats:record(i * 7 % 1000)
        check = check + stats:spread()
    end
    return stats.total + stats.count + check
end

local function main()
    return run(1000000)
end

return main()
