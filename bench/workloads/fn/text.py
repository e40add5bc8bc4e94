# Text over 100,000 lines, written as users write code: functions with
# explicit returns and method calls.
def make_line(i):
    return f"row {i}: name=item{i % 100}; qty={i % 7}"


def make_text(n):
    lines = []
    for i in range(n):
        lines.append(make_line(i))
    return "\n".join(lines)


def parse_line(line):
    fields = line.split(": ")[1].split("; ")
    name = fields[0].replace("name=", "")
    qty = int(fields[1].replace("qty=", ""))
    return {"name": name, "qty": qty}


def main():
    text = make_text(100000)
    out = []
    total = 0
    for line in text.split("\n"):
        row = parse_line(line)
        total += row["qty"]
        out.append(f"{row['name']}:{row['qty'] * 2}")
    joined = ",".join(out)
    return len(text) + len(joined) + total


result = main()
print(result)
