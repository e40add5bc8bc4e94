-- Sorting 200,000 integers with the built-in sort. The integers come from the
-- Park-Miller generator, whose products stay below 2^53, so engines whose
-- numbers are doubles (Lua 5.1, JavaScript) produce the same sequence.
local a = {}
local x = 12345
for i = 1, 200000 do x = x * 16807 % 2147483647; a[i] = x end
table.sort(a)
return a[100001]
