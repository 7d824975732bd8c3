#!/usr/bin/env bash
# 0001 gen-vs-protobuf (local, no broker): `sluice gen` writes what protobuf
# itself would write.
#
# 5000 events in both formats are checked by tests/tools/check_gen.py with
# Debian's python3-protobuf: every pb record is protobuf's canonical
# encoding of itself, every JSON line parses (json_format) to the same
# message as the pb record at that index and is byte-identical to the line
# gen_events.py would write, the distribution matches the reference
# (round-robin streams, event-time window, ranges, frequencies) and mean
# sizes are within 15% of gen_events.py's own output (2000 events).
# Then the command line: determinism per seed, stdout = file, option
# errors (exit 2, no file), and atomic output (no file, no temporary, when
# the directory is missing or a write fails past a file-size limit).
set -euo pipefail
: "${SLUICE:?path of the sluice binary}" "${SL_SRC:?source tree}" "${SL_TMP:=/tmp}"
PY=/usr/bin/python3
T="$SL_TMP/e2e-0001"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }

N=5000
opts=(--count "$N" --seed 7 --streams 5 --first-stream 42 --start-ms 1764547200000 --span-s 600
      --disorder-s 20)
"$SLUICE" gen "${opts[@]}" --output "$T/ours.pb"
"$SLUICE" gen "${opts[@]}" --format jsonl --output "$T/ours.jsonl"
"$PY" "$SL_SRC/bench/gen_events.py" --count 2000 --out "$T/ref.pb" --jsonl "$T/ref.jsonl"
"$PY" "$SL_SRC/tests/tools/check_gen.py" --proto "$SL_SRC/bench/play_event.proto" \
  --pb "$T/ours.pb" --jsonl "$T/ours.jsonl" --ref-pb "$T/ref.pb" --ref-jsonl "$T/ref.jsonl" \
  --count $N --streams 5 --first-stream 42 --start-ms 1764547200000 --span-s 600 --disorder-s 20

# Defaults (gen_events.py's), and start 0: event time 0 is a default value
# that the encoder must skip like protobuf does.
"$SLUICE" gen --count 3000 --output "$T/def.pb" --quiet
"$SLUICE" gen --count 3000 --format jsonl --output "$T/def.jsonl" --quiet
"$PY" "$SL_SRC/tests/tools/check_gen.py" --proto "$SL_SRC/bench/play_event.proto" \
  --pb "$T/def.pb" --jsonl "$T/def.jsonl" --count 3000
"$SLUICE" gen --count 300 --start-ms 0 --span-s 1 --disorder-s 5 --streams 1 --first-stream 0 \
  --output "$T/zero.pb" --quiet
"$SLUICE" gen --count 300 --start-ms 0 --span-s 1 --disorder-s 5 --streams 1 --first-stream 0 \
  --format jsonl --output "$T/zero.jsonl" --quiet
"$PY" "$SL_SRC/tests/tools/check_gen.py" --proto "$SL_SRC/bench/play_event.proto" \
  --pb "$T/zero.pb" --jsonl "$T/zero.jsonl" --count 300 --streams 1 --first-stream 0 \
  --start-ms 0 --span-s 1 --disorder-s 5

# Determinism: same seed same bytes, another seed other bytes; stdout = file.
"$SLUICE" gen "${opts[@]}" --output "$T/again.pb" --quiet
cmp -s "$T/ours.pb" "$T/again.pb" || fail "same seed gave different bytes"
"$SLUICE" gen "${opts[@]}" --seed 8 --output "$T/other.pb" --quiet
cmp -s "$T/ours.pb" "$T/other.pb" && fail "seeds 7 and 8 gave the same bytes"
"$SLUICE" gen "${opts[@]}" --format jsonl --output - --quiet > "$T/stdout.jsonl"
cmp -s "$T/ours.jsonl" "$T/stdout.jsonl" || fail "--output - differs from the file"
"$SLUICE" gen --count 0 --output "$T/empty.pb" --quiet
{ [ -f "$T/empty.pb" ] && [ ! -s "$T/empty.pb" ]; } || fail "--count 0 must write an empty file"

# Usage errors: exit 2, a message naming the option, no output.
expect_usage() {
  local want="$1"; shift
  set +e; "$SLUICE" gen "$@" > "$T/out.txt" 2> "$T/err.txt"; local st=$?; set -e
  [ $st -eq 2 ] || fail "gen $* exited $st, expected 2"
  grep -q -- "$want" "$T/err.txt" || fail "gen $*: message lacks '$want': $(cat "$T/err.txt")"
  [ ! -e "$T/bad.pb" ] || fail "gen $* left an output file"
}
expect_usage "--output" --count 10
expect_usage "format 'parquet'" --format parquet --output "$T/bad.pb"
expect_usage "--count '-5'" --count -5 --output "$T/bad.pb"
expect_usage "--count '12x'" --count 12x --output "$T/bad.pb"
expect_usage "streams 0: must be" --streams 0 --output "$T/bad.pb"
expect_usage "--disorder-s" --disorder-s 99999999 --output "$T/bad.pb"
expect_usage "first-stream" --first-stream 999999999 --streams 2 --output "$T/bad.pb"
expect_usage "unknown option '--bogus'" --bogus 1 --output "$T/bad.pb"
expect_usage "needs a value" --output "$T/bad.pb" --seed
"$SLUICE" gen --help | grep -q -- "--disorder-s" || fail "--help does not list the options"

# Atomic output: a missing directory, and a write failing past RLIMIT_FSIZE
# (SIGXFSZ ignored): exit 1, nothing under the final name, no temporary.
set +e
"$SLUICE" gen --count 10 --output "$T/no/such/dir/x.pb" 2> "$T/err.txt"; st=$?
set -e
[ $st -eq 1 ] || fail "missing directory: exit $st, expected 1"
grep -q "no/such/dir" "$T/err.txt" || fail "missing directory: message lacks the path"
mkdir -p "$T/lim"
set +e
(ulimit -f 1024; exec "$SLUICE" gen --count 200000 --output "$T/lim/big.pb") 2> "$T/err.txt"; st=$?
set -e
[ $st -eq 1 ] || fail "file-size limit: exit $st, expected 1 ($(cat "$T/err.txt"))"
[ -z "$(ls -A "$T/lim")" ] || fail "file-size limit left files behind: $(ls -A "$T/lim")"
echo "0001-gen-vs-protobuf: OK"
