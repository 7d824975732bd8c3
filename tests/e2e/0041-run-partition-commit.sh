#!/usr/bin/env bash
# 0041 run-partition-commit: hour partitions that commit themselves, empty
# ones too, with _SUCCESS and notifications - checked against what kcat and
# python-protobuf say the input was.
#
# Three streams over four hours of event time with disorder, and a fourth
# stream silent after hour 0, go into an 8-partition topic. The pipeline runs
# to idle. Independently, python decodes every message kcat reads (with its
# Kafka partition) and computes the watermark the issue defines: the minimum
# over partitions of (greatest event time - max_out_of_orderness). Then:
#   - every (stream, hour) with end(hour) <= watermark has a _SUCCESS whose
#     rows equal DuckDB's count of that directory and protobuf's count of the
#     stream's events in that hour - the silent stream's empty hours too;
#   - no hour beyond the watermark is committed;
#   - the Kafka notification topic (kcat) and the command's log each hold
#     exactly one notification id per committed (stream, hour);
#   - `sluice partitions --json` lists the same states;
#   - events of committed hours produced afterwards are counted as late and
#     change nothing (commit.late: drop).
# The checks are in tests/tools/commit_check.py (shared with 0042).
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0041"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:8 --topic sluice.partitions:1
source "$TOOLS/commit_setup.sh"

commit_setup e2e41
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run.log" || { cat "$T/run.log"; fail "sluice run"; }
commit_collect
/usr/bin/python3 "$TOOLS/commit_check.py" "$T" e2e41 exact
# late records: events of a committed hour arrive after the commit; with
# commit.late: drop they are counted and never written, so the committed
# partitions do not change
rows() { (cd "$TOOLS" && node --input-type=module -e "
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
console.log(String((await c.runAndReadAll(\"SELECT count(*) FROM read_parquet('$T/lake/*/*/*/*.parquet')\")).getRowsJson()[0][0]));"); }
before=$(rows)
cp "$T/lake/s0/dt=2025-12-01/hour=00/_SUCCESS" "$T/success.before"
"$SLUICE" gen --count 300 --streams 1 --seed 6 --start-ms $START --span-s 600 --disorder-s 0 \
  --brokers "$BROKERS" --topic events --quiet
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run2.log" || { cat "$T/run2.log"; fail "second run"; }
grep -q " 300 late" "$T/run2.log" || { grep -v '^kafka' "$T/run2.log"; fail "the 300 late records were not counted as late"; }
[ "$(rows)" = "$before" ] || fail "late records were written into committed partitions"
cmp -s "$T/success.before" "$T/lake/s0/dt=2025-12-01/hour=00/_SUCCESS" || fail "a committed _SUCCESS changed"
echo "0041 ok"
