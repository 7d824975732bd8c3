#!/usr/bin/env bash
# 0011 convert-bad-input (local): bad records and bad invocations of
# `sluice convert` give precise errors, lose nothing and leave nothing behind.
#   - a malformed record in the middle: --bad-records fail names the record
#     index and byte offset (computed here, independently) and writes no
#     output and no temporary file; skip keeps every other record; dead-letter
#     writes the raw bytes, index, offset and reason;
#   - a file that ends inside a record, a JSON line that does not fit the
#     schema, a wrong field count in delimited text;
#   - missing files, an unknown message, no protoc on PATH, a bad option.
set -euo pipefail
: "${SLUICE:?path of the sluice binary}" "${SL_SRC:?source tree}" "${SL_TMP:=/tmp}"
PY=/usr/bin/python3
T="$SL_TMP/e2e-0011"
rm -rf "$T" && mkdir -p "$T/out"
fail() { echo "FAIL: $*" >&2; exit 1; }
PROTO="$SL_SRC/tests/data/play_event.proto"
conv() { "$SLUICE" convert --schema "$PROTO" --message bench.PlayEvent "$@"; }
no_leftovers() { [ -z "$(ls -A "$T/out")" ] || fail "$1: left files behind: $(ls -A "$T/out")"; }

"$PY" "$SL_SRC/bench/gen_events.py" --count 200 --seed 3 --out "$T/ev.pb"
# Splice a malformed record (field 1, length 5, only 2 bytes) in as record
# 120; print its byte offset and its bytes' base64.
read -r OFF RAW < <("$PY" - "$T/ev.pb" "$T/bad.pb" <<'PYEOF'
import base64, sys
data = open(sys.argv[1], "rb").read()
i, framed = 0, []  # the records with their length prefixes
while i < len(data):
    j, n, s = i, 0, 0
    while True:
        b = data[j]; j += 1; n |= (b & 0x7f) << s; s += 7
        if b < 0x80: break
    framed.append(data[i:j + n]); i = j + n
bad = b"\x0a\x05ab"
out = b"".join(framed[:120]) + bytes([len(bad)]) + bad + b"".join(framed[120:])
open(sys.argv[2], "wb").write(out)
print(len(b"".join(framed[:120])), base64.b64encode(bad).decode())
PYEOF
)

# fail (the default)
if conv --input-format pb-delimited --input "$T/bad.pb" --output "$T/out/x.parquet" 2> "$T/fail.err"; then
  fail "a bad record was accepted under --bad-records fail"
fi
grep -q "record 120 at byte $OFF: " "$T/fail.err" || fail "error does not name record 120 at byte $OFF: $(cat "$T/fail.err")"
grep -q "log_id\|field 1" "$T/fail.err" || fail "error does not name the field: $(cat "$T/fail.err")"
grep -q -- "--bad-records skip" "$T/fail.err" || fail "error does not say how to keep going"
no_leftovers fail

# skip
conv --input-format pb-delimited --input "$T/bad.pb" --output "$T/skip.parquet" --bad-records skip 2> "$T/skip.err"
grep -q "200 rows" "$T/skip.err" || fail "skip: $(cat "$T/skip.err")"
grep -q "1 bad record skipped" "$T/skip.err" || fail "skip: $(cat "$T/skip.err")"
rows=$(cd "$SL_SRC/tests/tools" && node duckq.mjs "SELECT count(*) AS n FROM '$T/skip.parquet'" | tail -1 | tr -d ' ')
[ "$rows" = 200 ] || fail "skip: DuckDB counts $rows rows"

# dead-letter
conv --input-format pb-delimited --input "$T/bad.pb" --output "$T/dl.parquet" \
  --bad-records dead-letter "$T/dead.jsonl" 2> "$T/dl.err"
"$PY" - "$T/dead.jsonl" "$OFF" "$RAW" <<'PYEOF' || fail "dead letter content"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
d = json.loads(lines[0])
assert d["record"] == 120 and d["offset"] == int(sys.argv[2]), d
assert d["raw_base64"] == sys.argv[3], d
assert "record 120" in d["reason"] and d["input"].endswith("bad.pb"), d
PYEOF

# A file that ends inside a record: fail names it; skip keeps the rest.
head -c $((OFF + 3)) "$T/ev.pb" > "$T/cut.pb"
if conv --input-format pb-delimited --input "$T/cut.pb" --output "$T/out/cut.parquet" 2> "$T/cut.err"; then
  fail "truncated input accepted"
fi
grep -q "record 120 at byte $OFF: .*truncated" "$T/cut.err" || fail "truncated: $(cat "$T/cut.err")"
no_leftovers truncated
conv --input-format pb-delimited --input "$T/cut.pb" --output "$T/out/cut.parquet" --bad-records skip 2> "$T/cut2.err"
grep -q "120 rows" "$T/cut2.err" || fail "truncated+skip: $(cat "$T/cut2.err")"
rm -f "$T/out/cut.parquet"

# JSON that does not fit the schema; delimited with a wrong field count.
printf '{"mid": 1}\n{"mid": "x1"}\n{"nosuch": 1}\n' > "$T/bad.jsonl"
conv --input-format jsonl --input "$T/bad.jsonl" --output "$T/out/j.parquet" --bad-records skip 2> "$T/j.err"
grep -q "record 1 at byte 11: .*mid" "$T/j.err" || fail "json: $(cat "$T/j.err")"
grep -q "record 2 at byte 25: .*nosuch" "$T/j.err" || fail "json: $(cat "$T/j.err")"
grep -q "2 bad records skipped" "$T/j.err" || fail "json: $(cat "$T/j.err")"
rm -f "$T/out/j.parquet"
printf 'a\tb\n' > "$T/bad.tsv"
if conv --input-format delimited --input "$T/bad.tsv" --output "$T/out/t.parquet" 2> "$T/t.err"; then
  fail "delimited line with 2 fields accepted"
fi
grep -q "record 0 at byte 0: " "$T/t.err" || fail "delimited: $(cat "$T/t.err")"
no_leftovers delimited

# SIGTERM mid-run, the input a pipe that stalls: exit 130, nothing left.
mkfifo "$T/stall.fifo"
{ cat "$T/ev.pb" "$T/ev.pb"; exec sleep 20; } > "$T/stall.fifo" 2>/dev/null &
feeder=$!
"$SLUICE" convert --schema "$PROTO" --message bench.PlayEvent --input-format pb-delimited \
  --input "$T/stall.fifo" --output "$T/out/sig.parquet" 2> "$T/sig.err" &
pid=$!
sleep 1
kill -TERM $pid
st=0; wait $pid || st=$?
kill $feeder 2>/dev/null || true
[ "$st" = 130 ] || fail "SIGTERM: exit status $st, expected 130: $(cat "$T/sig.err")"
grep -q "interrupted by signal" "$T/sig.err" || fail "SIGTERM: $(cat "$T/sig.err")"
no_leftovers sigterm

# Bad invocations: each error names the culprit and says what to do.
expect_err() { # WANT-REGEX CMD...
  local want=$1; shift
  if "$@" > "$T/e.out" 2> "$T/e.err"; then fail "accepted: $*"; fi
  grep -q -- "$want" "$T/e.err" || fail "'$*' said: $(cat "$T/e.err") (wanted $want)"
}
expect_err "nosuch.proto" conv --input-format pb-delimited --input "$T/ev.pb" --output "$T/out/a.parquet" --schema "$T/nosuch.proto"
expect_err "bench.Nope" "$SLUICE" convert --schema "$PROTO" --message bench.Nope --input-format pb-delimited --input "$T/ev.pb" --output "$T/out/a.parquet"
expect_err "$T/nosuch.pb" conv --input-format pb-delimited --input "$T/nosuch.pb" --output "$T/out/a.parquet"
expect_err "protoc not found on PATH" env PATH=/nonexistent "$SLUICE" convert --schema "$PROTO" --message bench.PlayEvent --input-format pb-delimited --input "$T/ev.pb" --output "$T/out/a.parquet"
expect_err "unknown --input-format 'csv'" conv --input-format csv --input "$T/ev.pb" --output "$T/out/a.parquet"
expect_err "compression" conv --input-format pb-delimited --input "$T/ev.pb" --output "$T/out/a.parquet" --compression brotli
expect_err "$T/nodir/a.parquet" conv --input-format pb-delimited --input "$T/ev.pb" --output "$T/nodir/a.parquet"
expect_err "input-format is required" "$SLUICE" convert --schema "$PROTO" --message bench.PlayEvent
no_leftovers invocations
echo "0011: bad input handled"
