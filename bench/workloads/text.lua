-- Text over 100,000 lines: build them by formatting and join them, then
-- split the text, split each line, replace in a field, parse a number and
-- join the results. Lua has no split, so it is written here.
local function split(s, sep)
    local out, start = {}, 1
    while true do
        local i, j = string.find(s, sep, start, true)
        if not i then
            out[#out + 1] = string.sub(s, start)
            return out
        end
        out[#out + 1] = string.sub(s, start, i - 1)
        start = j + 1
    end
end

local lines = {}
for i = 0, 99999 do
    lines[#lines + 1] = string.format("row %d: name=item%d; qty=%d", i, i % 100, i % 7)
end
local text = table.concat(lines, "\n")
local out = {}
local total = 0
for _, line in ipairs(split(text, "\n")) do
    local fields = split(split(line, ": ")[2], "; ")
    local name = string.gsub(fields[1], "name=", "")
    local qty = tonumber((string.gsub(fields[2], "qty=", "")))
    total = total + qty
    out[#out + 1] = string.format("%s:%d", name, qty * 2)
end
local joined = table.concat(out, ",")
return #text + #joined + total
