-- Text over 100,000 lines, written as users write code: functions with
-- explicit returns and method calls. Lua has no split, so it is written here.
local function split(s, sep)
    local out, start = {}, 1
    while true do
        local i, j = s:find(sep, start, true)
        if not i then
            out[#out + 1] = s:sub(start)
            return out
        end
        out[#out + 1] = s:sub(start, i - 1)
        start = j + 1
    end
end

local function makeLine(i)
    return ("row %d: name=item%d; qty=%d"):format(i, i % 100, i % 7)
end

local function makeText(n)
    local lines = {}
    for i = 0, n - 1 do
        lines[#lines + 1] = makeLine(i)
    end
    return table.concat(lines, "\n")
end

local function parseLine(line)
    local fields = split(split(line, ": ")[2], "; ")
    local name = fields[1]:gsub("name=", "")
    local qty = tonumber((fields[2]:gsub("qty=", "")))
    return { name = name, qty = qty }
end

local function main()
    local text = makeText(100000)
    local out = {}
    local total = 0
    for _, line in ipairs(split(text, "\n")) do
        local row = parseLine(line)
        total = total + row.qty
        out[#out + 1] = ("%s:%d"):format(row.name, row.qty * 2)
    end
    local joined = table.concat(out, ",")
    return text:len() + joined:len() + total
end

return main()
