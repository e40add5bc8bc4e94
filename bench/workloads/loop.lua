-- A 1,000,000-iteration while loop decrementing a variable: the interpreter's dispatch cost.
local x = 1000000
while x > 0 do x = x - 1 end
return x
