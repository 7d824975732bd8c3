#!/usr/bin/env bash
# 0032 run-disk-full: the lake fills up while a pipeline runs, then frees up.
#
# With SL_FAULT_ENOSPC=FILE (core/fault.h) every create, sync and publish in
# the lake fails with ENOSPC while FILE exists. The pipeline must stop taking
# input, say why and that it retries, keep retrying, and - once the space is
# back - finish with every record in the lake exactly once (DuckDB).
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0032"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:4
N=20000
"$SLUICE" gen --count $N --seed 5 --brokers "$BROKERS" --topic events --quiet
cp "$SL_SRC/tests/data/play_event.proto" "$T/"
cat > "$T/p.yaml" <<YAML
pipeline: full
checkpoint: { interval: 1s }
source: { kind: kafka, brokers: "$BROKERS", topics: [events] }
schemas: [./play_event.proto]
streams:
  - name: play
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { metadata: [partition, offset] }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" } ]
YAML
touch "$T/full"
(cd "$T" && SL_FAULT_ENOSPC="$T/full" exec "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run.log" &
pid=$!
for ((k = 0; k < 300; k++)); do
  [ "$(grep -c 'retrying_in_s=' "$T/run.log" || true)" -ge 2 ] && break
  kill -0 $pid 2>/dev/null || { cat "$T/run.log"; fail "sluice run exited while the lake was full"; }
  sleep 0.1
done
grep -q "No space left on device" "$T/run.log" || { cat "$T/run.log"; fail "the log does not say the lake is full"; }
grep -q "nothing is lost" "$T/run.log" || fail "the log does not say it retries from the checkpoint"
[ -z "$(find "$T" -name '*.parquet' 2>/dev/null)" ] || fail "files published while the lake was full"
rm -f "$T/full"
for ((k = 0; k < 1200; k++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null && { kill -9 $pid; cat "$T/run.log"; fail "no progress after the space came back"; }
wait $pid || { cat "$T/run.log"; fail "sluice run failed after the space came back"; }
(cd "$TOOLS" && node lake_check.mjs "$T/lake" play --once "$N") || fail "not exactly once"
[ "$(find "$T/lake" -name '.sluice+*' | wc -l)" = 0 ] || fail "in-progress files left"
echo "0032 ok"
