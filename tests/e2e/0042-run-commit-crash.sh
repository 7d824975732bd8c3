#!/usr/bin/env bash
# 0042 run-commit-crash: kill -9 inside the partition commit - inside the
# compaction (outputs written, journal written, between publishes, inputs
# removed), after a _SUCCESS is written, after a notification went out,
# after the manifest - and at a random moment; restart; run to idle. Each
# round first produces two more hours of events. Then, as in 0041
# (tests/tools/commit_check.py): every row is in the lake exactly once and
# counted right in its _SUCCESS, every committed partition is announced at
# least once and only with its own id (duplicates carry the same id: v1),
# nothing beyond the watermark is committed.
set -euo pipefail
: "${SLUICE:?}" "${SL_SRC:?}" "${SL_TMP:=/tmp}"
T="$SL_TMP/e2e-0042"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
TOOLS="$SL_SRC/tests/tools"
source "$TOOLS/devkafka.sh"
devkafka_start --topic events:8 --topic sluice.partitions:1
source "$TOOLS/commit_setup.sh"
commit_setup e2e42
# Each round uses up pending commits, and partitions commit on up to 8
# threads, so how many finish before a kill depends on speed: the points
# that need a second compaction come first, while every ready partition is
# still pending (after commit.success_written:3 a fast writer had often
# compacted the rest, and round 2 found no second publish).
points=(compact.journal_written:2 compact.published_one:2 commit.success_written:3
        compact.inputs_removed:1 compact.outputs_written:1 commit.notified:5 commit.notified:2
        ckpt.manifest_written:1)
for ((i = 0; i < ${#points[@]}; i++)); do
  p=${points[$i]}
  # every round brings two more hours (the earlier ones are ready then), so
  # each fault point has commits to happen in, however far the last round got
  [ $i -gt 0 ] && "$SLUICE" gen --count 2400 --streams 3 --seed $((40 + i)) \
    --start-ms $((START + (2 * i + 2) * 3600000)) --span-s 7200 --disorder-s 0 \
    --brokers "$BROKERS" --topic events --quiet
  (cd "$T" && SL_FAULT="$p" exec "$SLUICE" run p.yaml) 2> "$T/crash$i.log" &
  pid=$!
  for ((k = 0; k < 300; k++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
  grep -q "fault point ${p%%:*} reached" "$T/crash$i.log" || { grep -v '^kafka' "$T/crash$i.log"; fail "fault point $p not reached"; }
  echo "round $i: SIGKILL at $p"
done
(cd "$T" && exec "$SLUICE" run p.yaml) 2> "$T/crash-r.log" &
pid=$!; sleep 2.5; kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
(cd "$T" && "$SLUICE" run p.yaml --stop-when-idle 3s) 2> "$T/run.log" || { cat "$T/run.log"; fail "final run"; }
commit_collect
/usr/bin/python3 "$TOOLS/commit_check.py" "$T" e2e42 atleast
echo "0042 ok"
