-- Sieve of Eratosthenes to 1,000,000 over a pre-filled array of booleans, counting primes.
local n = 1000000
local flags = {}
for k = 0, n do flags[k] = true end
local count = 0
local i = 2
while i <= n do
  if flags[i] then
    count = count + 1
    local j = i * i
    while j <= n do flags[j] = false; j = j + i end
  end
  i = i + 1
end
return count
