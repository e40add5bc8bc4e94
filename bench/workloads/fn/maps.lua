-- 200,000 inserts into a table, then 200,000 lookups summing the values,
-- inside a function; the keys come from a function using tostring().
local function key(i)
    return "k" .. tostring(i)
end

local function main()
    local m = {}
    for i = 0, 199999 do
        m[key(i)] = i
    end
    local sum = 0
    for i = 0, 199999 do
        sum = sum + m[key(i)]
    end
    return sum
end

return main()
