-- 200,000 inserts into a map keyed by "k" .. i, then 200,000 lookups summing the values.
local m = {}
for i = 0, 199999 do m["k" .. i] = i end
local sum = 0
for i = 0, 199999 do sum = sum + m["k" .. i] end
return sum
