-- A 1,000,000-iteration while loop decrementing a variable, inside a
-- function that returns the result.
local function countdown(n)
    local x = n
    while x > 0 do
        x = x - 1
    end
    return x
end

local function main()
    return countdown(1000000)
end

return main()
