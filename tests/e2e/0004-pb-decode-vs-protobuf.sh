#!/usr/bin/env bash
# 0004 pb-decode-vs-protobuf (local, no broker): our protobuf decoder and
# shredder against protobuf's own parser (python-protobuf).
#
# Inputs: 2000 reference PlayEvents (gen_events.py), and the adversarial sets
# of tests/tools/pb_adversarial.py for alltypes3.proto (proto3) and
# alltypes2.proto (proto2). Each is decoded by the driver
# (tests/unit/test_pb_wire.c "dump": pb-delimited -> plan -> batches ->
# sl_batch_validate -> canonical rows via sl_rows_json) and by
# tests/tools/pb_expect.py (python-protobuf -> canonical rows under the
# mapping), then compared with rowcmp.py. Bad records: the set we reject must
# equal (records protobuf rejects) + (records only our stricter documented
# rules reject); python must really reject the first group and accept the
# second; each error must name the record, its byte offset, and contain the
# text pb_adversarial.py expects.
set -euo pipefail
: "${SLUICE:?path of the sluice binary}" "${SL_SRC:?source tree}" "${SL_TMP:=/tmp}"
PY=/usr/bin/python3
T="$SL_TMP/e2e-0004"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
DRV="$(dirname "$SLUICE")/test_pb_wire"
[ -x "$DRV" ] || fail "driver $DRV not built (cmake --build ... --target test_pb_wire)"
GEN="$SL_SRC/bench/gen_events.py"
[ -f "$GEN" ] || GEN=/work/shared/bench/gen_events.py
TOOLS="$SL_SRC/tests/tools"
DATA="$SL_SRC/tests/data"

# run NAME PROTO MESSAGE INPUT [ADVERSARIAL_PREFIX]
run() {
  local name=$1 proto=$2 msg=$3 in=$4 adv=${5:-}
  local notours=()
  [ -n "$adv" ] && notours=(--not-ours "$adv.ours")
  "$PY" "$TOOLS/pb_expect.py" --proto "$proto" --message "$msg" --input "$in" \
    --out "$T/$name.expected.jsonl" --bad "$T/$name.expected-bad" "${notours[@]}" 2>/dev/null
  "$DRV" dump "$proto" "$msg" "$in" > "$T/$name.actual.jsonl" 2> "$T/$name.errors" ||
    { cat "$T/$name.errors" >&2; fail "$name: driver failed"; }
  "$PY" "$TOOLS/rowcmp.py" "$T/$name.expected.jsonl" "$T/$name.actual.jsonl" --label "$name" ||
    fail "$name: rows differ"
  grep -v '^record [0-9]* at byte [0-9]*: byte [0-9]*: \|^record [0-9]* at byte [0-9]*: required field ' \
    "$T/$name.errors" && fail "$name: error lines without record/offset context (above)"
  sed -n 's/^record \([0-9]*\) at byte.*/\1/p' "$T/$name.errors" > "$T/$name.actual-bad"
  diff <(cut -d' ' -f1 "$T/$name.expected-bad" | sort -n) <(sort -n "$T/$name.actual-bad") ||
    fail "$name: rejected records differ (< expected, > ours)"
  if [ -n "$adv" ]; then
    diff <(sed -n 's/ rejected$//p' "$T/$name.expected-bad") <(cut -d' ' -f1 "$adv.bad") ||
      fail "$name: python-protobuf does not reject exactly the records $adv.bad lists"
    diff <(sed -n 's/ ours$//p' "$T/$name.expected-bad") <(cut -d' ' -f1 "$adv.ours") ||
      fail "$name: python-protobuf rejects a record $adv.ours says only we reject"
    local idx sub
    while read -r idx sub; do
      grep -q "^record $idx at byte [0-9]*: .*$sub" "$T/$name.errors" ||
        fail "$name: record $idx: error should mention '$sub': $(grep "^record $idx " "$T/$name.errors")"
    done < <(cat "$adv.bad" "$adv.ours")
  fi
  echo "$name: $(wc -l < "$T/$name.actual.jsonl") rows equal, $(wc -l < "$T/$name.actual-bad") rejected as expected"
}

"$PY" "$GEN" --count 2000 --out "$T/events.pb"
run play_event "$DATA/play_event.proto" bench.PlayEvent "$T/events.pb"
[ -s "$T/play_event.errors" ] && fail "play_event: unexpected errors"
# The same through a binary descriptor set instead of the .proto.
protoc --include_imports --descriptor_set_out="$T/play_event.desc" -I"$DATA" play_event.proto
"$DRV" dump "$T/play_event.desc" bench.PlayEvent "$T/events.pb" > "$T/desc.actual.jsonl"
cmp -s "$T/desc.actual.jsonl" "$T/play_event.actual.jsonl" || fail "descriptor set and .proto differ"

for s in 3 2; do
  proto="$DATA/alltypes$s.proto"
  msg=$([ $s = 3 ] && echo t3.AllTypes || echo t2.AllTypes2)
  "$PY" "$TOOLS/pb_adversarial.py" --schema $s --proto "$proto" --out "$T/adv$s.pb"
  run "alltypes$s" "$proto" "$msg" "$T/adv$s.pb" "$T/adv$s.pb"
done

# The framing: a truncated file fails naming the record and its offset.
head -c 1000 "$T/events.pb" > "$T/cut.pb"
if "$DRV" dump "$DATA/play_event.proto" bench.PlayEvent "$T/cut.pb" > /dev/null 2> "$T/cut.err"; then
  fail "truncated input accepted"
fi
grep -q "framing: input .*: record [0-9]* at byte [0-9]*: length prefix says .* the file is truncated" "$T/cut.err" ||
  fail "truncated input: $(cat "$T/cut.err")"
echo "0004: ok"
