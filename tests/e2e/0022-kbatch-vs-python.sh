#!/usr/bin/env bash
# 0022 kbatch-vs-python (local, no broker): batched Kafka values
# (src/formats/batch/kbatch.h) against python's own libraries.
#
# One direction: tests/tools/kbatch_make.py builds PlayEvents with
# python-protobuf, frames them with protobuf's delimited writer and
# compresses them with python3-zstandard, python3-lz4, python3-snappy and
# gzip (whole, and as concatenated frames made with different settings); the
# driver (tests/unit/test_kbatch.c "decode") must print exactly the records
# python wrote, with the codec fixed and with auto detection. The other
# direction: our encoder's output ("encode") is decompressed by those
# libraries and every record parsed by protobuf. Then the failures: bombs
# (python-made values expanding past the bound), truncated values, a bad
# snappy CRC, a wrong fixed codec - each must fail with a message that says
# what happened.
set -euo pipefail
: "${SLUICE:?path of the sluice binary}" "${SL_SRC:?source tree}" "${SL_TMP:=/tmp}"
PY=/usr/bin/python3
T="$SL_TMP/e2e-0022"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
DRV="$(dirname "$SLUICE")/test_kbatch"
[ -x "$DRV" ] || fail "driver $DRV not built (cmake --build ... --target test_kbatch)"
TOOLS="$SL_SRC/tests/tools"
PROTO="$SL_SRC/tests/data/play_event.proto"

"$PY" "$TOOLS/kbatch_make.py" make --proto "$PROTO" --dir "$T"
n=$(wc -l < "$T/records.hex")
[ "$n" -gt 1000 ] || fail "too few records ($n)"

# Python-made values -> our decoder.
while read -r name codec expect; do
  for mode in "$codec" auto; do
    "$DRV" decode "$mode" "$T/$name.bin" > "$T/$name.$mode.out" 2> "$T/$name.$mode.err" ||
      fail "$name ($mode): $(cat "$T/$name.$mode.err")"
    grep -qx "found $codec" "$T/$name.$mode.err" || fail "$name ($mode): $(cat "$T/$name.$mode.err")"
    cmp -s "$T/$expect" "$T/$name.$mode.out" ||
      fail "$name ($mode): records differ from python's ($(diff "$T/$expect" "$T/$name.$mode.out" | head -c 300))"
  done
  echo "$name: $(wc -l < "$T/$name.$codec.out") records equal ($(stat -c %s "$T/$name.bin") bytes, $codec and auto)"
done < "$T/cases.txt"

# Our encoder -> python's libraries and protobuf.
for codec in none gzip snappy lz4 zstd; do
  "$DRV" encode "$codec" "$T/delimited.bin" "$T/ours.$codec" || fail "encode $codec"
  "$PY" "$TOOLS/kbatch_make.py" check --codec "$codec" --in "$T/ours.$codec" \
    --expect "$T/records.hex" --proto "$PROTO" || fail "python cannot read our $codec batch"
done
# An empty batch, too.
: > "$T/empty.bin"
: > "$T/empty.hex"
for codec in gzip snappy lz4 zstd; do
  "$DRV" encode "$codec" "$T/empty.bin" "$T/ours-empty.$codec" || fail "encode empty $codec"
  "$PY" "$TOOLS/kbatch_make.py" check --codec "$codec" --in "$T/ours-empty.$codec" \
    --expect "$T/empty.hex" --proto "$PROTO" > /dev/null || fail "python: our empty $codec batch"
done

# expect_fail NAME PATTERN DRIVER-ARGS...: the driver must fail, saying PATTERN.
expect_fail() {
  local name=$1 pat=$2
  shift 2
  if "$DRV" decode "$@" > /dev/null 2> "$T/$name.err"; then fail "$name: accepted"; fi
  grep -q -- "$pat" "$T/$name.err" || fail "$name: message '$(cat "$T/$name.err")' lacks '$pat'"
  echo "$name: rejected: $(tail -n 1 "$T/$name.err")"
}

# Bombs: 4 MiB of zeros in one record, bound 1 MiB; the bound + 16 passes.
for codec in gzip snappy lz4 zstd; do
  "$PY" "$TOOLS/kbatch_make.py" bomb --codec "$codec" --size 4194304 --out "$T/bomb.$codec"
  [ "$(stat -c %s "$T/bomb.$codec")" -lt 300000 ] || fail "bomb.$codec is not a bomb"
  expect_fail "bomb-$codec" "^$codec: the batch expands past max_bytes (1048576 bytes)" \
    auto "$T/bomb.$codec" 1048576
  "$DRV" decode auto "$T/bomb.$codec" 4194320 2>/dev/null | wc -l | grep -qx 1 || fail "bomb.$codec at its size"
done

# Truncated values: cut inside the last frame.
for codec in gzip lz4 zstd; do
  f="$T/$codec-multi.bin"
  head -c $(($(stat -c %s "$f") - 7)) "$f" > "$T/cut.$codec"
  expect_fail "cut-$codec" "^$codec: .*truncated" "$codec" "$T/cut.$codec"
done
f="$T/snappy-multi.bin"
head -c $(($(stat -c %s "$f") - 7)) "$f" > "$T/cut.snappy"
expect_fail cut-snappy "^snappy: .*truncated" snappy "$T/cut.snappy"
head -c $(($(stat -c %s "$T/none.bin") - 3)) "$T/none.bin" > "$T/cut.none"
expect_fail cut-none "record $((n - 1)) at byte [0-9]*: length prefix says" none "$T/cut.none"

# A flipped CRC byte in python's snappy stream (first chunk's CRC: bytes 14-17).
cp "$T/snappy.bin" "$T/crc.snappy"
printf '\x00\x00\x00\x00' | dd of="$T/crc.snappy" bs=1 seek=14 conv=notrunc status=none
expect_fail crc-snappy "^snappy: corrupt value at byte 10 of .*: CRC-32C mismatch" auto "$T/crc.snappy"

# The producer compresses with zstd but the stream says gzip.
expect_fail wrong-codec "^gzip: .*does not begin with the gzip magic.*looks like zstd" gzip "$T/zstd.bin"
echo "0022: ok"
