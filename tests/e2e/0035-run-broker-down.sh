#!/usr/bin/env bash
# 0035 run-broker-down: the broker goes away while a pipeline runs, then
# comes back. "A broker that is down delays but loses nothing."
#
# dev-kafka takes its brokers down on SIGUSR1 and up on SIGUSR2 (the topics
# and their data stay). The pipeline consumes half the events, the brokers
# go down for 8 s (the pipeline keeps running and checkpointing what it
# has), the generator produces the second half as they come back, and the
# pipeline must end with every record in the lake exactly once (DuckDB).
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0035"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:4
N=20000
"$SLUICE" gen --count $((N / 2)) --seed 8 --brokers "$BROKERS" --topic events --quiet
cp "$SL_SRC/tests/data/play_event.proto" "$T/"
cat > "$T/p.yaml" <<YAML
pipeline: down
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
(cd "$T" && exec "$SLUICE" run p.yaml --stop-when-idle 10s) 2> "$T/run.log" &
pid=$!
for ((k = 0; k < 300; k++)); do
  [ -n "$(find "$T/lake" -name '*.parquet' 2>/dev/null | head -1)" ] && break; sleep 0.1
done
[ -n "$(find "$T/lake" -name '*.parquet' 2>/dev/null | head -1)" ] || { cat "$T/run.log"; fail "nothing published before the outage"; }
kill -USR1 "$DEVKAFKA_PID"
sleep 8
kill -0 $pid 2>/dev/null || { cat "$T/run.log"; fail "sluice run exited while the broker was down"; }
# the producer starts while the brokers are still down: it delivers once
# they are back, so the second half arrives well within the idle timeout
# (event times go on after the first half's: earlier ones would be late)
"$SLUICE" gen --count $((N / 2)) --seed 9 --start-ms 1764554400000 --brokers "$BROKERS" --topic events --quiet &
gpid=$!
sleep 1
kill -USR2 "$DEVKAFKA_PID"
wait $gpid || fail "gen could not deliver after the brokers came back"
for ((k = 0; k < 1200; k++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null && { kill -9 $pid; cat "$T/run.log"; fail "no end after the broker came back"; }
wait $pid || { cat "$T/run.log"; fail "sluice run failed"; }
(cd "$TOOLS" && node lake_check.mjs "$T/lake" play --once "$N") || fail "not exactly once"
echo "0035 ok"
