#!/usr/bin/python3
"""Compare two files of canonical rows (JSON lines), with a precise diff.

usage: rowcmp.py EXPECTED.jsonl ACTUAL.jsonl [--unordered] [--label NAME]

Canonical row form (shared by every producer: src/core/rows_json.h, the
protobuf reference pb_expect.py, the DuckDB/hyparquet dumper pq_rows.mjs):
  - one JSON object per row; keys are the schema's field names; every field
    present, null when null;
  - integers are exact JSON numbers of any magnitude (Python's json keeps
    them exact);
  - FLOAT/DOUBLE are JSON numbers; NaN/Infinity/-Infinity are the strings
    "NaN", "Infinity", "-Infinity";
  - BOOLEAN true/false; STRING and enum names are JSON strings; other byte
    arrays are base64 strings;
  - TIMESTAMP is its integer value in the column's unit;
  - groups are objects, LIST is an array, MAP is an array of
    {"key": k, "value": v} in stored order.
Floats compare equal when they are equal as doubles, or when both round to
the same float32 (a FLOAT column printed by different writers).
"""
import json, math, struct, sys

def f32(x):
    try:
        return struct.pack('<f', x)
    except (OverflowError, struct.error):
        return None

SPECIAL = {"NaN", "Infinity", "-Infinity"}

def num_eq(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    fa, fb = float(a), float(b)
    if fa == fb:
        return True
    if math.isnan(fa) and math.isnan(fb):
        return True
    pa, pb = f32(fa), f32(fb)
    return pa is not None and pa == pb

def eq(a, b, path, diffs):
    if len(diffs) > 20:
        return
    if isinstance(a, str) and a in SPECIAL and isinstance(b, (int, float)) and not isinstance(b, bool):
        b = 'NaN' if math.isnan(b) else ('Infinity' if b > 0 else '-Infinity') if math.isinf(b) else b
    if isinstance(b, str) and b in SPECIAL and isinstance(a, (int, float)) and not isinstance(a, bool):
        a = 'NaN' if math.isnan(a) else ('Infinity' if a > 0 else '-Infinity') if math.isinf(a) else a
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                diffs.append("%s.%s: present only in %s" % (path, k, "expected" if k in a else "actual"))
            else:
                eq(a[k], b[k], path + "." + k, diffs)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            diffs.append("%s: %d elements expected, %d actual: %r vs %r" % (path, len(a), len(b), a, b))
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                eq(x, y, "%s[%d]" % (path, i), diffs)
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        if not num_eq(a, b):
            diffs.append("%s: expected %r, actual %r" % (path, a, b))
    elif a != b or type(a) != type(b):
        diffs.append("%s: expected %r, actual %r" % (path, a, b))

def load(p):
    with open(p) as f:
        return [json.loads(l) for l in f if l.strip()]

def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    unordered = "--unordered" in sys.argv
    label = sys.argv[sys.argv.index("--label") + 1] if "--label" in sys.argv else ""
    if "--label" in sys.argv:
        args.remove(label)
    exp, act = load(args[0]), load(args[1])
    if unordered:
        key = lambda r: json.dumps(r, sort_keys=True)
        exp, act = sorted(exp, key=key), sorted(act, key=key)
    diffs = []
    if len(exp) != len(act):
        diffs.append("row count: expected %d, actual %d" % (len(exp), len(act)))
    for i, (a, b) in enumerate(zip(exp, act)):
        eq(a, b, "row %d" % i, diffs)
        if len(diffs) > 20:
            break
    if diffs:
        print("rowcmp %s: MISMATCH %s vs %s" % (label, args[0], args[1]))
        for d in diffs[:20]:
            print("  " + d)
        sys.exit(1)
    print("rowcmp %s: %d rows equal" % (label, len(exp)))

if __name__ == "__main__":
    main()
