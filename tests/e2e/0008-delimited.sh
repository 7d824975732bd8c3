#!/usr/bin/env bash
# 0008 delimited (local, no broker): our delimited-text decoder against rows
# that python-protobuf builds from the same values.
#
# A python script (below) writes, for each message, one line of its
# top-level non-repeated scalar and enum fields in field-number order, and
# the expected canonical row: the message with those values set through
# python-protobuf (which range-checks them) and everything else left absent,
# converted by tests/tools/pb_expect.py's to_row (the mapping shared by all
# decoder tests). Inputs:
#   - 2000 reference PlayEvents (gen_events.py), ~5% of cells as \N (the
#     default for these implicit-presence fields), enums by name or number,
#     booleans as true/false/1/0; once with tabs and \N, once with ',' and
#     NULL as the null token;
#   - 1500 random t3.AllTypes lines (alltypes3.proto): every integer type at
#     its extremes, floats (NaN, infinities, float32 values), raw bytes,
#     non-ASCII strings, open-enum unknown numbers, presence fields and
#     oneof members null or set (at most one member per oneof);
#   - bad lines, each with the error it must give (column number and field
#     name, or both column counts).
# The driver is tests/unit/test_json.c "dump delim". Rows are compared with
# rowcmp.py; the rejected lines must be exactly the bad ones.
set -euo pipefail
: "${SLUICE:?path of the sluice binary}" "${SL_SRC:?source tree}" "${SL_TMP:=/tmp}"
PY=/usr/bin/python3
T="$SL_TMP/e2e-0008"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
DRV="$(dirname "$SLUICE")/test_json"
[ -x "$DRV" ] || fail "driver $DRV not built (cmake --build ... --target test_json)"
GEN="$SL_SRC/bench/gen_events.py"
[ -f "$GEN" ] || GEN=/work/shared/bench/gen_events.py
DATA="$SL_SRC/tests/data"

cat > "$T/mk_delim.py" <<'EOF'
"""mk_delim.py PROTO MESSAGE OUT_PREFIX (events.pb | random N) SEP NULL
writes PREFIX.txt (lines), PREFIX.expected.jsonl, PREFIX.bad ("IDX text")."""
import json, math, os, random, struct, sys
sys.path.insert(0, os.environ["SL_SRC"] + "/tests/tools")
from pb_expect import load_message_class, to_row, varint_frames
from google.protobuf.descriptor import FieldDescriptor as FD

proto, name, prefix, source, sep, null = sys.argv[1:7]
cls, _ = load_message_class(proto, name)
D = cls.DESCRIPTOR
cols = [f for f in sorted(D.fields, key=lambda f: f.number)
        if f.label != FD.LABEL_REPEATED and f.type not in (FD.TYPE_MESSAGE, FD.TYPE_GROUP)]
rnd = random.Random(8)
INTS = {FD.TYPE_INT32: (-2**31, 2**31 - 1), FD.TYPE_SINT32: (-2**31, 2**31 - 1),
        FD.TYPE_SFIXED32: (-2**31, 2**31 - 1), FD.TYPE_UINT32: (0, 2**32 - 1),
        FD.TYPE_FIXED32: (0, 2**32 - 1), FD.TYPE_INT64: (-2**63, 2**63 - 1),
        FD.TYPE_SINT64: (-2**63, 2**63 - 1), FD.TYPE_SFIXED64: (-2**63, 2**63 - 1),
        FD.TYPE_UINT64: (0, 2**64 - 1), FD.TYPE_FIXED64: (0, 2**64 - 1)}


def text(f, v):
    """Our text for value v of field f (as python-protobuf holds it)."""
    t = f.type
    if t == FD.TYPE_BOOL:
        return rnd.choice(["true", "1"] if v else ["false", "0"])
    if t == FD.TYPE_ENUM:
        ev = f.enum_type.values_by_number.get(v)
        return ev.name if ev is not None and rnd.random() < 0.7 else str(v)
    if t in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(v)
    if t == FD.TYPE_BYTES:
        return v.decode("ascii")
    return str(v)


def rand_value(f):
    t = f.type
    if t in INTS:
        lo, hi = INTS[t]
        return rnd.choice([lo, hi, 0, -1 if lo < 0 else 1, rnd.randint(lo, hi)])
    if t == FD.TYPE_BOOL:
        return rnd.random() < 0.5
    if t == FD.TYPE_ENUM:
        return rnd.choice([v.number for v in f.enum_type.values] + [5])
    if t == FD.TYPE_FLOAT:
        x = rnd.choice([float("nan"), float("inf"), -float("inf"), 3.4028234663852886e38,
                        1e-45, rnd.uniform(-1e6, 1e6)])
        return x if math.isnan(x) or math.isinf(x) else struct.unpack("<f", struct.pack("<f", x))[0]
    if t == FD.TYPE_DOUBLE:
        return rnd.choice([float("nan"), -float("inf"), 1.7976931348623157e308, 5e-324, -0.0,
                           rnd.uniform(-1e300, 1e300), rnd.random()])
    if t == FD.TYPE_STRING:
        return "".join(rnd.choice("aZ09 ,;:!é€日本😀\"'\\{}") for _ in range(rnd.randint(0, 12)))
    if t == FD.TYPE_BYTES:
        return bytes(rnd.choice(b"abcXYZ019 !#$%&()*+-./:;<=>?@[]^_`{|}~") for _ in range(rnd.randint(0, 10)))
    raise ValueError(t)


def real_oneof(f):
    return f.containing_oneof is not None and len(f.containing_oneof.fields) > 1


def messages():
    if source == "events":
        with open(sys.argv[7], "rb") as fi:
            for rec in varint_frames(fi.read()):
                yield cls.FromString(rec)
        return
    for _ in range(int(sys.argv[7])):
        m, chosen = cls(), {}
        for f in cols:
            if real_oneof(f):  # at most one member (maybe a message one: no column)
                o = f.containing_oneof
                if o.name not in chosen:
                    chosen[o.name] = rnd.choice([None] + [g.name for g in o.fields])
                if chosen[o.name] != f.name:
                    continue
            elif f.has_presence and rnd.random() < 0.3:
                continue
            setattr(m, f.name, rand_value(f))
        yield m


entries = []  # (line, expected row or None, expected error or None)
for m in messages():
    e = cls()  # what the line carries: the scalar columns only
    cells = []
    for f in cols:
        present = m.HasField(f.name) if f.has_presence else True
        v = getattr(m, f.name)
        if not present or (source == "events" and rnd.random() < 0.05):
            cells.append(null)  # null: absent, or the default for implicit presence
            continue
        if f.type == FD.TYPE_STRING and (sep in v or v == null):
            v = v.replace(sep, "_") + "x"
        setattr(e, f.name, v)
        cells.append(text(f, v))
    entries.append((sep.join(cells), to_row(e, None), None))

# bad lines, each with the error it must give
good = entries[0][0].split(sep)
by_type = {}
for i, f in enumerate(cols):
    by_type.setdefault(f.type, i)
spoil = [(sep.join(good[:-1]), "expected %d columns" % len(cols)),
         (sep.join(good + ["x"]), "got %d" % (len(cols) + 1))]
for t, txt, err in [(FD.TYPE_INT64, "12x", "expected an integer (int64)"),
                    (FD.TYPE_INT64, "9223372036854775808", "out of range for int64"),
                    (FD.TYPE_INT32, "2147483648", "out of range for int32"),
                    (FD.TYPE_UINT32, "-1", "out of range for uint32"),
                    (FD.TYPE_UINT64, "18446744073709551616", "out of range for uint64"),
                    (FD.TYPE_DOUBLE, "1e999", "out of range for double"),
                    (FD.TYPE_DOUBLE, "0x10", "expected a number (double)"),
                    (FD.TYPE_FLOAT, "1e39", "out of range for float"),
                    (FD.TYPE_BOOL, "yes", "expected true, false, 1 or 0"),
                    (FD.TYPE_ENUM, "NO_SUCH_VALUE", "expected a value name or number"),
                    (FD.TYPE_STRING, "bad\udcff", "invalid UTF-8")]:
    if t in by_type:
        c = list(good)
        c[by_type[t]] = txt
        spoil.append((sep.join(c), "column %d (%s): %s" % (by_type[t] + 1, cols[by_type[t]].name, err)))
groups = {}
for i, f in enumerate(cols):
    if real_oneof(f):
        groups.setdefault(f.containing_oneof.name, []).append(i)
for members in groups.values():
    if len(members) >= 2:
        c = [null if i in members else x for i, x in enumerate(good)]
        for i in members[:2]:
            c[i] = "s" if cols[i].type == FD.TYPE_STRING else text(cols[i], rand_value(cols[i]))
        spoil.append((sep.join(c), "column %d (%s): a second member of a oneof has a value"
                      % (members[1] + 1, cols[members[1]].name)))
for k, (line, err) in enumerate(spoil):
    entries.insert(1 + k * 7 % (len(entries) - 1), (line, None, err))

with open(prefix + ".txt", "w", encoding="utf-8", errors="surrogateescape") as fo:
    fo.write("".join(l + "\n" for l, _, _ in entries))
with open(prefix + ".expected.jsonl", "w") as fo:
    fo.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for _, r, _ in entries if r))
with open(prefix + ".bad", "w") as fo:
    fo.write("".join("%d\n" % i for i, (_, r, _) in enumerate(entries) if r is None))
with open(prefix + ".baderr", "w") as fo:
    fo.write("".join("%d\t%s\n" % (i, e) for i, (_, r, e) in enumerate(entries) if r is None))
EOF

# check NAME PROTO MESSAGE PREFIX [driver options]
check() {
  local name=$1 proto=$2 msg=$3 p=$4
  shift 4
  "$DRV" dump delim "$proto" "$msg" "$p.txt" "$@" > "$p.actual.jsonl" 2> "$p.errors" ||
    { cat "$p.errors" >&2; fail "$name: driver failed"; }
  "$PY" "$SL_SRC/tests/tools/rowcmp.py" "$p.expected.jsonl" "$p.actual.jsonl" --label "$name" ||
    fail "$name: rows differ"
  diff "$p.bad" <(sed -n 's/^record \([0-9]*\) at byte [0-9]*: .*/\1/p' "$p.errors") ||
    { cat "$p.errors" >&2; fail "$name: rejected lines differ (< expected, > ours)"; }
  local idx err
  while IFS=$'\t' read -r idx err; do
    grep -qF -- "$err" <(grep "^record $idx at byte " "$p.errors") ||
      fail "$name: line $idx: error should contain '$err': $(grep "^record $idx " "$p.errors")"
  done < "$p.baderr"
  echo "$name: $(wc -l < "$p.actual.jsonl") rows equal, $(wc -l < "$p.bad") bad lines rejected" \
       "with the expected errors"
}

"$PY" "$GEN" --count 2000 --out "$T/events.pb"
export SL_SRC
"$PY" "$T/mk_delim.py" "$DATA/play_event.proto" bench.PlayEvent "$T/pe-tab" events $'\t' '\N' \
  "$T/events.pb"
check play_event_tsv "$DATA/play_event.proto" bench.PlayEvent "$T/pe-tab"
grep -q '\\N' "$T/pe-tab.txt" || fail "no null tokens generated"
"$PY" "$T/mk_delim.py" "$DATA/play_event.proto" bench.PlayEvent "$T/pe-comma" events ',' 'NULL' \
  "$T/events.pb"
check play_event_csv "$DATA/play_event.proto" bench.PlayEvent "$T/pe-comma" --separator , \
  --null NULL
"$PY" "$T/mk_delim.py" "$DATA/alltypes3.proto" t3.AllTypes "$T/a3" random $'\t' '\N' 1500
check alltypes3 "$DATA/alltypes3.proto" t3.AllTypes "$T/a3"
[ "$(wc -l < "$T/a3.bad")" -ge 12 ] || fail "alltypes3: too few bad lines"
# CRLF line ends are accepted (the framer strips \r; the decoder strips one too)
sed 's/$/\r/' "$T/a3.txt" > "$T/a3crlf.txt"
cp "$T/a3.expected.jsonl" "$T/a3crlf.expected.jsonl"; cp "$T/a3.bad" "$T/a3crlf.bad"
cp "$T/a3.baderr" "$T/a3crlf.baderr"
check alltypes3_crlf "$DATA/alltypes3.proto" t3.AllTypes "$T/a3crlf"
echo "0008: ok"
