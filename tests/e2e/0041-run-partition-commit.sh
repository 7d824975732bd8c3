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
#     change nothing (commit.late: drop); with side-output they land under
#     the hour's _late/ directory; with reopen the hour takes them, is
#     compacted again, and is announced again as version 2.
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
# The expected commits are computed from the whole input, so the pipeline
# must read it all before its first checkpoint with data (the silent
# stream's hour-0 events come last in the partitions): with a 1 s interval
# a slow build (ASan) checkpoints a prefix, and the hour commits without
# them (late, correctly, but not what the check computes).
sed -i 's/interval: 1s/interval: 5s/' "$T/p.yaml"
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
grep -q " late=300 " "$T/run2.log" || { grep -v '^kafka' "$T/run2.log"; fail "the 300 late records were not counted as late"; }
[ "$(rows)" = "$before" ] || fail "late records were written into committed partitions"
cmp -s "$T/success.before" "$T/lake/s0/dt=2025-12-01/hour=00/_SUCCESS" || fail "a committed _SUCCESS changed"
# the other late policies, switched on for two streams: s0 side-output
# (late rows go to hour=HH/_late/), s1 reopen (the committed hour takes them,
# is compacted again and re-announced as version 2)
sed -i 's/^  - name: s0$/  - name: s0\n    commit: { late: side-output }/; s/^  - name: s1$/  - name: s1\n    commit: { late: reopen }/' "$T/p.yaml"
count() { (cd "$TOOLS" && node --input-type=module -e "
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create(':memory:')).connect();
console.log(String((await c.runAndReadAll(\"SELECT count(*) FROM read_parquet('\$1')\".replace('\$1', process.argv[1]))).getRowsJson()[0][0]));" "$1"); }
H0=dt=2025-12-01/hour=00
s0_before=$(count "$T/lake/s0/$H0/*.parquet"); s1_before=$(count "$T/lake/s1/$H0/*.parquet")
s1_v1=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"])' "$T/lake/s1/$H0/_SUCCESS")
[ "$s1_v1" = "$s1_before" ] || fail "s1 $H0: _SUCCESS says $s1_v1 rows, DuckDB $s1_before"
"$SLUICE" gen --count 200 --streams 1 --first-stream 1000 --seed 7 --start-ms $START --span-s 600 \
  --disorder-s 0 --brokers "$BROKERS" --topic events --quiet
"$SLUICE" gen --count 100 --streams 1 --first-stream 1001 --seed 8 --start-ms $START --span-s 600 \
  --disorder-s 0 --brokers "$BROKERS" --topic events --quiet
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run3.log" || { cat "$T/run3.log"; fail "third run"; }
grep -q " late=300 " "$T/run3.log" || { grep -v '^kafka' "$T/run3.log"; fail "300 late records expected"; }
[ "$(count "$T/lake/s0/$H0/*.parquet")" = "$s0_before" ] || fail "side-output: s0's committed hour changed"
[ "$(count "$T/lake/s0/$H0/_late/*.parquet")" = 200 ] || fail "side-output: not 200 rows under s0/$H0/_late"
[ "$(count "$T/lake/s1/$H0/*.parquet")" = $((s1_before + 100)) ] || fail "reopen: s1 $H0 does not hold the 100 late rows"
/usr/bin/python3 - "$T/lake/s1/$H0" $((s1_before + 100)) "$BROKERS" <<'PY'
import glob, json, subprocess, sys
d, rows, brokers = sys.argv[1], int(sys.argv[2]), sys.argv[3]
j = json.load(open(d + '/_SUCCESS'))
if j['version'] != 2 or j['rows'] != rows or j['files'] != len(glob.glob(d + '/*.parquet')) or j['files'] != 1:
    sys.exit(f'FAIL: reopen: _SUCCESS {j}, want version 2, {rows} rows, 1 compacted file')
out = subprocess.run(['kcat', '-C', '-b', brokers, '-t', 'sluice.partitions', '-o', 'beginning', '-e', '-q', '-f', '%s\n'],
                     capture_output=True, text=True, check=True).stdout
ids = [json.loads(l)['id'] for l in out.splitlines() if l.strip()]
if ids.count('e2e41/s1/dt=2025-12-01/hour=00/v2') != 1 or ids.count('e2e41/s1/dt=2025-12-01/hour=00/v1') != 1:
    sys.exit('FAIL: reopen: want one notification of v1 and one of v2 for s1 hour 00')
PY
echo "0041 ok"
