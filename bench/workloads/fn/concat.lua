-- A 100,000-piece string built by repeated concatenation inside a function
-- that returns it; its length is read with a method call.
local function build(n)
    local s = ""
    for i = 1, n do
        s = s .. "x"
    end
    return s
end

local function main()
    local s = build(100000)
    return s:len()
end

return main()
