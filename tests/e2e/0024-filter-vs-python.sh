#!/usr/bin/env bash
# 0024 filter-vs-python (local, no broker): the filter language
# (src/engine/filter.c) against an independent evaluator in Python.
#
# tests/tools/filter_expect.py builds random messages with python-protobuf
# (edge values, absent fields and messages, unknown enum numbers) for the
# proto3 and proto2 test schemas and PlayEvent, generates random expressions
# over their non-repeated field paths plus ones that must not compile, and
# evaluates them with its own tokenizer, parser and evaluator following the
# documented semantics (docs/formats.md, ETL). The driver (tests/unit/
# test_filter.c "eval") parses the same bytes with our protobuf decoder,
# compiles each expression and prints the keep/drop vector. Every line must
# agree: the same records kept, and a compile error exactly where Python
# says the expression is invalid. Each run must keep some and drop some
# records, so an evaluator that always answers the same cannot pass.
set -euo pipefail
: "${SLUICE:?path of the sluice binary}" "${SL_SRC:?source tree}" "${SL_TMP:=/tmp}"
PY=/usr/bin/python3
T="$SL_TMP/e2e-0024"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
DRV="$(dirname "$SLUICE")/test_filter"
[ -x "$DRV" ] || fail "driver $DRV not built (cmake --build ... --target test_filter)"
DATA="$SL_SRC/tests/data"

run() {
  local name=$1 proto=$2 msg=$3 seed=$4
  "$PY" "$SL_SRC/tests/tools/filter_expect.py" --proto "$DATA/$proto" --message "$msg" \
    --records 400 --exprs 600 --seed "$seed" --input "$T/$name.pb" \
    --exprs-out "$T/$name.exprs" --expected "$T/$name.expected"
  "$DRV" eval "$DATA/$proto" "$msg" "$T/$name.pb" "$T/$name.exprs" > "$T/$name.actual" ||
    fail "$name: driver failed"
  sed 's/^error: .*/error/' "$T/$name.actual" > "$T/$name.actual.cmp"
  local n; n=$(wc -l < "$T/$name.exprs")
  [ "$(wc -l < "$T/$name.actual.cmp")" = "$n" ] || fail "$name: $n expressions, $(wc -l < "$T/$name.actual.cmp") results"
  if ! cmp -s "$T/$name.expected" "$T/$name.actual.cmp"; then
    local line; line=$(cmp "$T/$name.expected" "$T/$name.actual.cmp" | sed -n 's/.* line \([0-9]*\).*/\1/p' || true)
    echo "expression: $(sed -n "${line}p" "$T/$name.exprs")" >&2
    echo "python:     $(sed -n "${line}p" "$T/$name.expected" | cut -c1-120)" >&2
    echo "sluice:     $(sed -n "${line}p" "$T/$name.actual" | cut -c1-200)" >&2
    fail "$name: expression $line differs ($(diff "$T/$name.expected" "$T/$name.actual.cmp" | grep -c '^<' || true) lines in all)"
  fi
  grep -q 1 "$T/$name.actual.cmp" && grep -q '^[01]*0[01]*$' "$T/$name.actual.cmp" ||
    fail "$name: degenerate run (nothing kept or nothing dropped)"
  # compile errors name the column
  grep '^error: ' "$T/$name.actual" | grep -v '^error: filter: column [0-9]*: ' &&
    fail "$name: error without 'filter: column N:'"
  echo "$name: $n expressions x $(grep -m1 '^[01]' "$T/$name.actual" | tr -d '\n' | wc -c) records agree ($(grep -c '^error' "$T/$name.actual") compile errors)"
}

run alltypes3 alltypes3.proto t3.AllTypes 1
run alltypes2 alltypes2.proto t2.AllTypes2 2
run play_event play_event.proto bench.PlayEvent 3
run alltypes3b alltypes3.proto t3.AllTypes 4
echo "0024: ok"
