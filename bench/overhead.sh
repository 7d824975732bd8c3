#!/usr/bin/env bash
# bench/overhead.sh: what operating a pipeline costs (issue 5: "metrics and
# audit cost less than 2% of throughput, measured on against off in the same
# run"), in steady state.
#
# Each round runs the pipeline twice, "on" and "off", in turn: a topic of 32
# partitions, `sluice gen` producing BENCH_RATE events/s for BENCH_SECONDS
# while the pipeline (2 workers, Parquet zstd, checkpoints every 10 s)
# consumes them. "on" has the per-hour audit counts (the default) and the
# HTTP endpoint, scraped for /metrics every second as Prometheus would; "off"
# has `audit: { enabled: false }` and no endpoint. Both must keep up with
# the producer, so throughput is the same by construction; what operating
# costs shows as CPU: the CPU seconds (user + system) of the whole `sluice
# run` process per million events, medians over BENCH_RUNS rounds, and the
# ratio on / off of the same round.
#   BENCH_RATE=80000 BENCH_SECONDS=20 BENCH_RUNS=3
set -euo pipefail
cd "$(dirname "$0")/.."
S=$(pwd)/${SLUICE:-build/sluice}
RATE=${BENCH_RATE:-80000}
SECS=${BENCH_SECONDS:-20}
RUNS=${BENCH_RUNS:-3}
W=$(pwd)/bench-out/overhead
die() { echo "bench: $*" >&2; exit 1; }
[ -x "$S" ] || die "$S not found: run 'make' first"
rm -rf "$W" && mkdir -p "$W"
export SLUICE="$S" SL_TMP="$W"
source tests/tools/devkafka.sh
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
N=$((RATE * SECS))
cp bench/play_event.proto "$W/"
for ((r = 1; r <= RUNS; r++)); do
  for mode in on off; do
    devkafka_start --topic events:32
    rm -rf "$W/state" "$W/lake"
    {
      echo "pipeline: bench"
      echo "state_dir: ./state"
      echo "checkpoint: { interval: 10s }"
      echo "workers: 2"
      echo "source: { kind: kafka, brokers: \"$BROKERS\", topics: [events] }"
      echo "schemas: [./play_event.proto]"
      if [ $mode = on ]; then
        echo "audit: { enabled: true }"
        echo "http: { listen: \"127.0.0.1:0\" }"
      else
        echo "audit: { enabled: false }"
      fi
      echo "streams:"
      echo "  - { name: play, message: bench.PlayEvent, event_time: { field: event_time_ms },"
      echo "      outputs: [ { kind: files, path: \"./lake/{stream}/dt={date}/hour={hour}\", compression: zstd } ] }"
    } > "$W/p.yaml"
    (cd "$W" && exec /usr/bin/time -f '%U %S' -o "$W/cpu" "$S" run p.yaml --stop-when-idle 3s) 2> "$W/run.$r.$mode.log" &
    pid=$!
    sleep 3
    "$S" gen --count $N --seed $r --span-s 7200 --rate "$RATE" --brokers "$BROKERS" --topic events --quiet &
    gen=$!
    scrapes=0
    while kill -0 $pid 2>/dev/null; do
      [ $mode = on ] && [ -s "$W/state/http.addr" ] &&
        curl -sf "http://$(cat "$W/state/http.addr")/metrics" -o /dev/null && scrapes=$((scrapes + 1))
      sleep 1
    done
    wait $gen
    wait $pid || { tail "$W/run.$r.$mode.log"; die "sluice run failed"; }
    grep -q " in=$N " "$W/run.$r.$mode.log" || { tail -3 "$W/run.$r.$mode.log"; die "$mode: not all $N events were read"; }
    [ $mode = off ] || [ $scrapes -gt 5 ] || die "the metrics endpoint was scraped $scrapes times"
    awk -v n=$N '{printf "%.4f\n", ($1 + $2) * 1000000 / n}' "$W/cpu" >> "$W/cpu-$mode"
    devkafka_stop
  done
  paste "$W/cpu-on" "$W/cpu-off" | tail -1 | awk '{printf "%.4f\n", $1 / $2}' >> "$W/ratio"
done
{
  echo "| $N events at $RATE/s, 2 workers, median of $RUNS rounds | on | off |"
  echo "|---|---:|---:|"
  echo "| CPU seconds of sluice run per million events | $(median < "$W/cpu-on") | $(median < "$W/cpu-off") |"
  echo "| on / off, same round (goal: < 1.02) | $(median < "$W/ratio") | |"
  echo
  echo "rounds: on $(paste -sd' ' "$W/cpu-on"); off $(paste -sd' ' "$W/cpu-off"); ratios $(paste -sd' ' "$W/ratio")"
} | tee "$W/results.md"
