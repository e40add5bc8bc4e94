# Text over 100,000 lines: build them by interpolation and join them, then
# split the text, split each line, replace in a field, parse a number and
# join the results.
lines = []
for i in range(100000):
    lines.append(f"row {i}: name=item{i % 100}; qty={i % 7}")
text = "\n".join(lines)
out = []
total = 0
for line in text.split("\n"):
    fields = line.split(": ")[1].split("; ")
    name = fields[0].replace("name=", "")
    qty = int(fields[1].replace("qty=", ""))
    total += qty
    out.append(f"{name}:{qty * 2}")
joined = ",".join(out)
result = len(text) + len(joined) + total
print(result)
