-- Sieve of Eratosthenes to 1,000,000 counting primes, inside a function,
-- with the bounds read from the table's length.
local function countPrimes(n)
    local flags = {}
    for k = 1, n + 1 do
        flags[k] = true
    end
    local count = 0
    local i = 2
    while i < #flags do
        if flags[i + 1] then
            count = count + 1
            local j = i * i
            while j < #flags do
                flags[j + 1] = false
                j = j + i
            end
        end
        i = i + 1
    end
    return count
end

local function main()
    return countPrimes(1000000)
end

return main()
