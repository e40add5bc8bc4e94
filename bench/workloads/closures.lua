-- map, filter and reduce with closures over 1,000,000 integers; the mapping
-- closure captures a variable. Lua has no map, filter or reduce, so they are
-- written here as a Lua user would.
local function map(t, f)
    local out = {}
    for i = 1, #t do out[i] = f(t[i]) end
    return out
end

local function filter(t, f)
    local out = {}
    for i = 1, #t do
        if f(t[i]) then out[#out + 1] = t[i] end
    end
    return out
end

local function reduce(t, f, acc)
    for i = 1, #t do acc = f(acc, t[i]) end
    return acc
end

local k = 3
local a = {}
for i = 0, 999999 do a[#a + 1] = i end
local tripled = map(a, function(x) return x * k end)
local even = filter(tripled, function(x) return x % 2 == 0 end)
return reduce(even, function(acc, x) return acc + x end, 0)
