-- A 100,000-piece string built by repeated concatenation.
local s = ""
for i = 1, 100000 do s = s .. "x" end
return #s
