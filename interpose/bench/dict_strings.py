# A dict-and-string workload: build and drop dictionaries of strings.
total = 0
for round in range(6):
    table = {}
    for i in range(60000):
        key = "key-%d-%d" % (round, i)
        table[key] = key.upper() * 3
    total += sum(len(v) for v in table.values())
    table = None
print(total)
