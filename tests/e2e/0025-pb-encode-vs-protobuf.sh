#!/usr/bin/env bash
# 0025 pb-encode-vs-protobuf (local, no broker): our protobuf re-encoder
# (sl_pb_encode, the Kafka output's serializer) against python-protobuf.
#
# Inputs, all pb-delimited:
#   - 2000 reference PlayEvents (gen_events.py, serialized by protobuf);
#   - 400 random t3.AllTypes and 400 random t2.AllTypes2 built field by
#     field through python-protobuf (pb_encode_check.py --gen): every
#     scalar kind with extreme values, oneofs, nesting, repeated, maps,
#     groups, closed and open enums;
#   - the hostile-but-valid wire input of pb_adversarial.py (unknown fields,
#     duplicates, unpacked runs, split messages, map duplicates, bad records).
# The driver (test_pb_encode reencode) parses each record with our decoder
# and re-encodes it; it also checks that encoding its own output again
# gives the same bytes. pb_encode_check.py then parses the original and
# our bytes with protobuf and requires equal messages (== and deterministic
# serialization), byte-identical output for records without maps, and the
# same records rejected. Every set runs again with a projection (a few
# top-level fields kept).
set -euo pipefail
: "${SLUICE:?path of the sluice binary}" "${SL_SRC:?source tree}" "${SL_TMP:=/tmp}"
PY=/usr/bin/python3
T="$SL_TMP/e2e-0025"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
DRV="${PBENC_DRIVER:-$(dirname "$SLUICE")/test_pb_encode}"
[ -x "$DRV" ] || fail "driver $DRV not built (cmake --build ... --target test_pb_encode)"
GEN="$SL_SRC/bench/gen_events.py"
[ -f "$GEN" ] || GEN=/work/shared/bench/gen_events.py
TOOLS="$SL_SRC/tests/tools"
DATA="$SL_SRC/tests/data"

# run NAME PROTO MESSAGE INPUT [KEEP [NOT_OURS]]
run() {
  local name=$1 proto=$2 msg=$3 in=$4 keep=${5:-} notours=${6:-}
  local kargs=() nargs=()
  [ -n "$keep" ] && kargs=(--keep "$keep")
  [ -n "$notours" ] && nargs=(--not-ours "$notours")
  "$DRV" reencode "$proto" "$msg" "$in" "$T/$name.ours.pb" $keep > "$T/$name.status" \
    2> "$T/$name.err" || { cat "$T/$name.err" >&2; fail "$name: driver failed"; }
  # (libprotobuf's logs about the hostile input go to $name.check-err)
  "$PY" "$TOOLS/pb_encode_check.py" --proto "$proto" --message "$msg" --input "$in" \
    --ours "$T/$name.ours.pb" --status "$T/$name.status" "${kargs[@]}" "${nargs[@]}" \
    2> "$T/$name.check-err" || {
    grep -v '^\[libprotobuf\|RuntimeWarning\|^  m.ParseFromString' "$T/$name.check-err" >&2
    fail "$name: re-encoded records differ from protobuf's"
  }
}

"$PY" "$GEN" --count 2000 --out "$T/events.pb"
PE="$DATA/play_event.proto"
run play_event "$PE" bench.PlayEvent "$T/events.pb"
grep -q '^bad' "$T/play_event.status" && fail "play_event: records rejected"
run play_event-proj "$PE" bench.PlayEvent "$T/events.pb" 1,2,13,15,18

for s in 3 2; do
  proto="$DATA/alltypes$s.proto"
  msg=$([ $s = 3 ] && echo t3.AllTypes || echo t2.AllTypes2)
  "$PY" "$TOOLS/pb_encode_check.py" --proto "$proto" --message "$msg" --gen 400 --seed $s \
    --input "$T/rand$s.pb"
  run "rand$s" "$proto" "$msg" "$T/rand$s.pb"
  grep -q '^bad' "$T/rand$s.status" && fail "rand$s: records rejected: $(grep -m3 '^bad' "$T/rand$s.status")"
  "$PY" "$TOOLS/pb_adversarial.py" --schema $s --proto "$proto" --out "$T/adv$s.pb"
  run "adv$s" "$proto" "$msg" "$T/adv$s.pb" "" "$T/adv$s.pb.ours"
done
# projections: proto3 keeps scalars, a oneof member, a message, a map, a
# packed list; proto2 drops the required id (not checked when dropped) and
# keeps a group, a required message, a map, unpacked and packed lists
run rand3-proj "$DATA/alltypes3.proto" t3.AllTypes "$T/rand3.pb" 1,12,14,32,33,41,51,71,75,100000
run rand2-proj "$DATA/alltypes2.proto" t2.AllTypes2 "$T/rand2.pb" 21,30,35,40,41,50,60
run adv3-proj "$DATA/alltypes3.proto" t3.AllTypes "$T/adv3.pb" 5,40,55,72 "$T/adv3.pb.ours"
run adv2-proj "$DATA/alltypes2.proto" t2.AllTypes2 "$T/adv2.pb" 17,22,30,42,43 "$T/adv2.pb.ours"
echo "0025: ok"
