-- Sorting 200,000 Park-Miller integers with the built-in sort, written as
-- users write code: a generator function, a list builder.
local function nextRandom(x)
    return x * 16807 % 2147483647
end

local function randomList(n, seed)
    local a = {}
    local x = seed
    for i = 1, n do
        x = nextRandom(x)
        a[#a + 1] = x
    end
    return a
end

local function main()
    local a = randomList(200000, 12345)
    table.sort(a)
    return a[#a / 2 + 1]
end

return main()
