#!/usr/bin/env python3
"""normalize.py - make two runs' output comparable byte for byte.

    normalize.py csv IN OUT     every processed_at field -> PROCESSED_AT, records
                                after the header sorted (ties come in any order)
    normalize.py state IN OUT   every per-app cursor     -> CURSOR

processed_at is the run start (the server's clock when the run began), so
it differs between any two runs; the state file's cursors are run starts
too. Everything else is kept byte for byte: the CSV is split into fields
on the raw bytes (RFC 4180 quoting, newlines inside quotes), never parsed
and rewritten, so a difference in quoting or escaping still shows.
"""
import re
import sys


def csv_records(data):
    """Yields each record as a list of raw field byte strings (quotes kept)
    and its terminator."""
    i, n = 0, len(data)
    while i < n:
        fields, start, quoted = [], i, False
        while i < n:
            c = data[i]
            if quoted:
                if c == 0x22:
                    if i + 1 < n and data[i + 1] == 0x22:
                        i += 2
                        continue
                    quoted = False
                i += 1
            elif c == 0x22:
                quoted = True
                i += 1
            elif c == 0x2C:
                fields.append(data[start:i])
                i += 1
                start = i
            elif c == 0x0A or (c == 0x0D and i + 1 < n and data[i + 1] == 0x0A):
                fields.append(data[start:i])
                end = 2 if c == 0x0D else 1
                yield fields, data[i:i + end]
                i += end
                break
            else:
                i += 1
        else:
            fields.append(data[start:i])
            yield fields, b""


def normalize_csv(data):
    """processed_at replaced, and the records after the header sorted: users
    who share a lac second come from the server in no guaranteed order."""
    out, column = [], None
    for fields, term in csv_records(data):
        if column is None:
            column = fields.index(b"processed_at")
        elif column < len(fields) and fields[column]:
            fields[column] = b"PROCESSED_AT"
        out.append(b",".join(fields) + term)
    return b"".join(out[:1] + sorted(out[1:]))


def normalize_state(data):
    return re.sub(rb'("[0-9a-f]{24}":)-?[0-9]+', rb"\1CURSOR", data)


def main():
    kind, src, dst = sys.argv[1:4]
    with open(src, "rb") as f:
        data = f.read()
    data = normalize_csv(data) if kind == "csv" else normalize_state(data)
    with open(dst, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
