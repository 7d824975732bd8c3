#!/usr/bin/env bash
# bench/pipeline.sh: `sluice run` (Kafka -> Parquet zstd, 2 workers) next to
# its two parts, measured in the same run on the same events:
#   - transport: kcat consuming every event of the topic from the same
#     broker (librdkafka's own consumer, output to /dev/null);
#   - encoding: `sluice convert` of the same events to Parquet zstd, two
#     processes at once (= the pipeline's 2 workers).
# Goal (issue 3): the pipeline reaches >= 0.8 of the lower of the two.
# The pipeline runs twice on the same topic (issue 5: the cost of operating
# it): "on" with the per-hour audit counts (the default) and the HTTP
# endpoint, scraped for /metrics every second while it runs; "off" with
# `audit: { enabled: false }` and no endpoint. Both records/s and the CPU
# seconds of the whole run are compared: the pipeline is bound by the mock
# broker's rate, so CPU time is where a cost shows.
#
#   BENCH_PIPE_COUNT=400000  events (32 partitions; dev-kafka keeps ~5 MiB per partition)
#   BENCH_RUNS=3             runs; medians are reported
# The pipeline's figure is its own: records / (last record - first record),
# printed by `sluice run` at exit, so the consumer-group join before the first
# record is not counted; kcat's time is the whole command (it joins no group).
set -euo pipefail
cd "$(dirname "$0")/.."
S=$(pwd)/${SLUICE:-build/sluice}
N=${BENCH_PIPE_COUNT:-400000}
RUNS=${BENCH_RUNS:-3}
W=$(pwd)/bench-out/pipeline
die() { echo "bench: $*" >&2; exit 1; }
[ -x "$S" ] || die "$S not found: run 'make' first"
command -v kcat >/dev/null || die "kcat not found: run 'scripts/deps.sh bench'"
rm -rf "$W" && mkdir -p "$W"
export SLUICE="$S" SL_TMP="$W"
source tests/tools/devkafka.sh
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

"$S" gen --count "$N" --seed 1 --output "$W/events.pb" --quiet
cp bench/play_event.proto "$W/"
for ((r = 1; r <= RUNS; r++)); do
  devkafka_start --topic events:32
  "$S" gen --count "$N" --seed 1 --brokers "$BROKERS" --topic events --quiet
  # transport: kcat
  t0=$(now)
  got=$(kcat -C -b "$BROKERS" -t events -o beginning -e -q -f 'x\n' | wc -l)
  t1=$(now)
  [ "$got" = "$N" ] || die "kcat read $got of $N events (dev-kafka dropped some: lower BENCH_PIPE_COUNT)"
  echo "$N $t0 $t1" | awk '{printf "%.0f\n", $1 / ($3 - $2)}' >> "$W/kcat"
  # the pipeline, with audit counts and metrics (scraped) and without
  for audit in on off; do
    rm -rf "$W/state" "$W/lake"
    cat > "$W/p.yaml" <<YAML
pipeline: bench
state_dir: ./state
checkpoint: { interval: 10s }
workers: 2
source: { kind: kafka, brokers: "$BROKERS", topics: [events], group: bench-$audit-$r }
schemas: [./play_event.proto]
audit: { enabled: $([ $audit = on ] && echo true || echo false) }
$([ $audit = on ] && echo 'http: { listen: "127.0.0.1:0" }')
streams:
  - name: play
    message: bench.PlayEvent
    event_time: { field: event_time_ms }
    outputs: [ { kind: files, path: "./lake/{stream}/dt={date}/hour={hour}", compression: zstd } ]
YAML
    (cd "$W" && exec /usr/bin/time -f '%M %U %S' -o "$W/rss.$r" "$S" run p.yaml --stop-when-idle 2s) 2> "$W/run.$r.$audit.log" &
    pid=$!
    scrapes=0
    while kill -0 $pid 2>/dev/null; do # a Prometheus scraping every second
      [ $audit = on ] && [ -s "$W/state/http.addr" ] &&
        curl -sf "http://$(cat "$W/state/http.addr")/metrics" -o /dev/null && scrapes=$((scrapes + 1))
      sleep 1
    done
    wait $pid || { cat "$W/run.$r.$audit.log"; die "sluice run failed"; }
    [ $audit = off ] || [ $scrapes -gt 0 ] || die "the metrics endpoint was never scraped"
    line=$(grep "run_records_per_s=" "$W/run.$r.$audit.log") || { cat "$W/run.$r.$audit.log"; die "no summary from sluice run"; }
    f=pipe; [ $audit = off ] && f=pipe-noaudit
    echo "$line" | sed -E 's/.*run_records_per_s=([0-9.e+]+).*/\1/' | awk '{printf "%.0f\n", $1}' >> "$W/$f"
    echo "$line" | grep -q " in=$N written=$N " || die "pipeline wrote other than $N: $line"
    tail -1 "$W/rss.$r" | awk '{print $2 + $3}' >> "$W/cpu-$audit" # user + system seconds
    if [ $audit = on ]; then tail -1 "$W/rss.$r" | awk '{print $1}' >> "$W/rss"; fi
  done
  devkafka_stop
  # encoding: two converts at once
  t0=$(now)
  for k in 1 2; do
    "$S" convert --schema bench/play_event.proto --message bench.PlayEvent --input-format pb-delimited \
      --input "$W/events.pb" --output "$W/conv$k.parquet" --compression zstd --quiet &
  done
  wait
  t1=$(now)
  echo "$N $t0 $t1" | awk '{printf "%.0f\n", 2 * $1 / ($3 - $2)}' >> "$W/conv"
done
P=$(median < "$W/pipe"); K=$(median < "$W/kcat"); C=$(median < "$W/conv"); R=$(median < "$W/rss")
Q=$(median < "$W/pipe-noaudit"); U1=$(median < "$W/cpu-on"); U0=$(median < "$W/cpu-off")
low=$(( K < C ? K : C ))
{
  echo "| $N events, 32 partitions, median of $RUNS | records/s |"
  echo "|---|---:|"
  echo "| sluice run (Kafka -> Parquet zstd, 2 workers) | $P |"
  echo "| kcat, the same topic (transport alone) | $K |"
  echo "| sluice convert x 2 processes (encoding alone) | $C |"
  echo "| pipeline / lower of the two (goal >= 0.8) | $(awk -v p="$P" -v l="$low" 'BEGIN {printf "%.2f", p / l}') |"
  echo "| pipeline peak RSS | $((R / 1024)) MiB |"
  echo "| sluice run without audit counts and metrics | $Q |"
  echo "| audit + metrics on / off: records/s (goal: cost < 2%) | $(awk -v p="$P" -v q="$Q" 'BEGIN {printf "%.3f", p / q}') |"
  echo "| audit + metrics on / off: CPU seconds of the run ($U1 / $U0) | $(awk -v a="$U1" -v b="$U0" 'BEGIN {printf "%.3f", a / b}') |"
  echo
  echo "runs: pipeline $(paste -sd' ' "$W/pipe"); without audit and metrics $(paste -sd' ' "$W/pipe-noaudit"); kcat $(paste -sd' ' "$W/kcat"); convert x2 $(paste -sd' ' "$W/conv")"
} | tee "$W/results.md"
