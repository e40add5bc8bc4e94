-- Build a ~1 MB document of nested objects and arrays, serialise it, then
-- parse and re-serialise it three times, written as users write code:
-- functions with explicit return statements. Lua has no JSON library, so the
-- encoder and decoder are the same Lua code as in ../json.lua.
local Array = {} -- the metatable that tells arrays from objects

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
    ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function escape(c)
    return escapes[c] or string.format("\\u%04x", string.byte(c))
end

local encode

local function encodeTo(v, out)
    local t = type(v)
    if t == "table" then
        if getmetatable(v) == Array then
            out[#out + 1] = "["
            for i = 1, #v do
                if i > 1 then out[#out + 1] = "," end
                encodeTo(v[i], out)
            end
            out[#out + 1] = "]"
        else
            out[#out + 1] = "{"
            local first = true
            for k, x in pairs(v) do
                if not first then out[#out + 1] = "," end
                first = false
                encodeTo(k, out)
                out[#out + 1] = ":"
                encodeTo(x, out)
            end
            out[#out + 1] = "}"
        end
    elseif t == "string" then
        out[#out + 1] = '"' .. string.gsub(v, '[%c"\\]', escape) .. '"'
    elseif t == "number" then
        if v == math.floor(v) then
            out[#out + 1] = string.format("%d", v)
        else
            out[#out + 1] = string.format("%.17g", v)
        end
    elseif t == "boolean" then
        out[#out + 1] = tostring(v)
    elseif v == nil then
        out[#out + 1] = "null"
    else
        error("cannot encode a " .. t)
    end
end

encode = function(v)
    local out = {}
    encodeTo(v, out)
    return table.concat(out)
end

local unescapes = { ['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f',
    n = '\n', r = '\r', t = '\t' }

local decodeAt
local byte, sub, find = string.byte, string.sub, string.find
local LBRACE, RBRACE, LBRACKET, RBRACKET = byte("{"), byte("}"), byte("["), byte("]")
local QUOTE, COLON, COMMA = byte('"'), byte(":"), byte(",")

local function skip(s, i)
    local c = byte(s, i)
    if c ~= 32 and c ~= 9 and c ~= 10 and c ~= 13 then return i end
    return find(s, "[^ \t\r\n]", i) or #s + 1
end

local function decodeString(s, i)
    local j = find(s, '"', i + 1, true)
    if not j then error("unterminated string at " .. i) end
    local plain = sub(s, i + 1, j - 1)
    if not find(plain, "\\", 1, true) then return plain, j + 1 end
    local parts, start = {}, i + 1
    while true do
        j = string.find(s, '["\\]', start)
        if not j then error("unterminated string at " .. i) end
        parts[#parts + 1] = string.sub(s, start, j - 1)
        if string.sub(s, j, j) == '"' then
            return table.concat(parts), j + 1
        end
        local c = string.sub(s, j + 1, j + 1)
        if c == "u" then
            parts[#parts + 1] = string.char(tonumber(string.sub(s, j + 2, j + 5), 16))
            start = j + 6
        else
            parts[#parts + 1] = unescapes[c] or error("bad escape at " .. j)
            start = j + 2
        end
    end
end

decodeAt = function(s, i)
    i = skip(s, i)
    local c = byte(s, i)
    if c == LBRACE then
        local obj = {}
        i = skip(s, i + 1)
        if byte(s, i) == RBRACE then return obj, i + 1 end
        while true do
            local k
            k, i = decodeString(s, skip(s, i))
            i = skip(s, i)
            if byte(s, i) ~= COLON then error("':' expected at " .. i) end
            obj[k], i = decodeAt(s, i + 1)
            i = skip(s, i)
            c = byte(s, i)
            if c == RBRACE then return obj, i + 1 end
            if c ~= COMMA then error("',' or '}' expected at " .. i) end
            i = i + 1
        end
    elseif c == LBRACKET then
        local arr = setmetatable({}, Array)
        i = skip(s, i + 1)
        if byte(s, i) == RBRACKET then return arr, i + 1 end
        while true do
            arr[#arr + 1], i = decodeAt(s, i)
            i = skip(s, i)
            c = byte(s, i)
            if c == RBRACKET then return arr, i + 1 end
            if c ~= COMMA then error("',' or ']' expected at " .. i) end
            i = i + 1
        end
    elseif c == QUOTE then
        return decodeString(s, i)
    elseif string.sub(s, i, i + 3) == "true" then
        return true, i + 4
    elseif string.sub(s, i, i + 4) == "false" then
        return false, i + 5
    elseif string.sub(s, i, i + 3) == "null" then
        return nil, i + 4
    end
    local j = i
    while true do
        c = byte(s, j)
        if not c or not (c >= 48 and c <= 57 or c == 45 or c == 43 or c == 46 or c == 101 or c == 69) then break end
        j = j + 1
    end
    local n = tonumber(string.sub(s, i, j - 1))
    if not n then error("bad value at " .. i) end
    return n, j
end

local function decode(s)
    local v, i = decodeAt(s, 1)
    if skip(s, i) <= #s then error("data after the value at " .. i) end
    return v
end

local function makeItem(i)
    local children = setmetatable({}, Array)
    for j = 0, 2 do
        children[#children + 1] = { k = j, v = "n" .. tostring(i + j) }
    end
    return {
        id = i,
        name = "item-" .. tostring(i),
        active = i % 2 == 0,
        tags = setmetatable({ "t" .. tostring(i % 7), "g" .. tostring(i % 11), "c" .. tostring(i % 13) }, Array),
        pos = { x = i % 100, y = i * 7 % 100, z = -(i % 17) },
        children = children,
    }
end

local function makeDocument(n)
    local items = setmetatable({}, Array)
    for i = 0, n - 1 do
        items[#items + 1] = makeItem(i)
    end
    return { count = #items, items = items }
end

local function main()
    local text = encode(makeDocument(6000))
    local total = 0
    for r = 0, 2 do
        local doc = decode(text)
        local out = encode(doc)
        total = total + out:len() + doc.items[r * 1000 + 1].pos.y + doc.count
    end
    return total
end

return main()
