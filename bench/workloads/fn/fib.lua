-- Recursive fib(28), five times, written as users write code: functions with
-- explicit return statements.
local function fib(n)
    if n < 2 then
        return n
    end
    return fib(n - 1) + fib(n - 2)
end

local function main()
    local r = 0
    for i = 1, 5 do
        r = fib(28)
    end
    return r
end

return main()
