#!/usr/bin/env bash
# 0031 run-crash: kill -9 `sluice run` at random moments and at injected fault
# points inside the checkpoint commit sequence, restart, run to idle: every
# input record must be in the lake exactly once.
#
# 100k events in 8 partitions; checkpoints every second; two workers. Twelve
# rounds alternate a kill -9 after a random delay with a self-kill (SIGKILL)
# at a fault point (core/fault.h): at a worker barrier, after a part file is
# closed, before and after the manifest is written, between two publishes
# and after publishing. A fault round must really reach its point (the test
# checks the process's last words). Then a clean run to idle, and DuckDB
# counts rows and distinct (_partition, _offset) pairs: both must equal N,
# and no in-progress file may remain.
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0031"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:8

N=${SL_CRASH_N:-100000}
ROUNDS=${SL_CRASH_ROUNDS:-12}
"$SLUICE" gen --count $N --seed 3 --brokers "$BROKERS" --topic events --quiet
cp "$SL_SRC/tests/data/play_event.proto" "$T/"
cat > "$T/p.yaml" <<YAML
pipeline: crash
state_dir: ./state
checkpoint: { interval: 1s }
workers: 2
source: { kind: kafka, brokers: "$BROKERS", topics: [events] }
schemas: [./play_event.proto]
streams:
  - name: play
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    etl: { metadata: [partition, offset] }
    outputs:
      - { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}" }
YAML
points=(worker.barrier closer.closed ckpt.before_manifest ckpt.manifest_written ckpt.published_one ckpt.published)
RANDOM=31
hits=0
for ((i = 0; i < ROUNDS; i++)); do
  if ((i % 2 == 0)); then
    delay=$(/usr/bin/python3 -c "import random; random.seed($i); print(round(random.uniform(0.5, 4.0), 2))")
    (cd "$T" && exec "$SLUICE" run p.yaml) 2> "$T/run$i.log" &
    pid=$!
    sleep "$delay"
    kill -9 $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    echo "round $i: kill -9 after ${delay}s"
  else
    p=${points[$(( (i / 2) % ${#points[@]} ))]}
    n=$(( (i % 3) + 1 ))
    (cd "$T" && SL_FAULT="$p:$n" exec "$SLUICE" run p.yaml) 2> "$T/run$i.log" &
    pid=$!
    for ((k = 0; k < 300; k++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    kill -9 $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    if grep -q "fault point $p reached" "$T/run$i.log"; then hits=$((hits + 1)); else
      cat "$T/run$i.log" >&2; fail "round $i: fault point $p:$n was not reached in 30 s"; fi
    echo "round $i: SIGKILL at fault point $p (hit $n)"
  fi
  grep -q "lost a committed file\|damaged" "$T/run$i.log" && { cat "$T/run$i.log"; fail "round $i"; }
done
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/final.log" || { cat "$T/final.log"; fail "final run"; }
(cd "$TOOLS" && node lake_check.mjs "$T/lake" play --once "$N") || fail "not exactly once"
left=$(find "$T/lake" -name '.sluice+*' | wc -l)
[ "$left" = 0 ] || fail "$left in-progress files left"
echo "0031 ok ($hits fault points reached)"
