#!/usr/bin/env bash
# 0020 dev-kafka-gen (local broker: sluice dev-kafka): `sluice gen` into a
# topic, read back by kcat and checked by protobuf's Python parser.
#
# - dev-kafka with a 4-partition topic (tests/tools/devkafka.sh); kcat sees
#   the topic with 4 partitions on 127.0.0.1.
# - gen --count 20000 --brokers --topic; kcat consumes everything with a
#   length-safe format; tests/tools/kafka_check_gen.py compares with
#   `gen --format pb-delimited` of the same seed: same events exactly once,
#   key = mid, header log_id, timestamp = event time, per-partition order.
# - --format jsonl in Kafka mode: JSON lines without newline, same events.
# - kcat can produce to dev-kafka and read it back; a producer writing to an
#   unknown topic makes the mock create it with 4 partitions.
# - --rate paces (1000 events at 2000/s take >= ~0.4 s).
# - errors: gen to an unreachable broker fails (exit 1, names the topic) in
#   bounded time; usage errors exit 2; dev-kafka with a bad topic exits 1.
# - dev-kafka removes its bootstrap file and exits 0 on SIGTERM.
set -euo pipefail
: "${SLUICE:?path of the sluice binary}" "${SL_SRC:?source tree}" "${SL_TMP:=/tmp}"
PY=/usr/bin/python3
T="$SL_TMP/e2e-0020"
rm -rf "$T" && mkdir -p "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
source "$SL_SRC/tests/tools/devkafka.sh"
devkafka_start --topic events:4 --topic js:2
case "$BROKERS" in 127.0.0.1:*) ;; *) fail "bootstrap '$BROKERS' is not on 127.0.0.1" ;; esac
kcat -b "$BROKERS" -L -t events > "$T/md.txt"
grep -q 'topic "events" with 4 partitions' "$T/md.txt" || fail "events has not 4 partitions: $(cat "$T/md.txt")"

N=20000
opts=(--count $N --seed 11 --streams 6 --start-ms 1764547200000 --span-s 3600)
"$SLUICE" gen "${opts[@]}" --format pb-delimited --output "$T/expect.pb" --quiet
"$SLUICE" gen "${opts[@]}" --brokers "$BROKERS" --topic events 2> "$T/gen.err" ||
  fail "gen to kafka: $(cat "$T/gen.err")"
cat "$T/gen.err"
grep -q "$N events (pb) to topic events" "$T/gen.err" || fail "no summary line"
FMT='%p %o %T %K %k %S %h\n%s\n'
kcat -b "$BROKERS" -C -t events -o beginning -e -q -f "$FMT" > "$T/kcat.out"
"$PY" "$SL_SRC/tests/tools/kafka_check_gen.py" --proto "$SL_SRC/tests/data/play_event.proto" \
  --tmp "$T" --expect "$T/expect.pb" --kcat "$T/kcat.out" --partitions 4

# JSON lines as values
"$SLUICE" gen --count 3000 --seed 5 --format jsonl --brokers "$BROKERS" --topic js --quiet
"$SLUICE" gen --count 3000 --seed 5 --output "$T/js.pb" --quiet
kcat -b "$BROKERS" -C -t js -o beginning -e -q -f "$FMT" > "$T/js.out"
"$PY" "$SL_SRC/tests/tools/kafka_check_gen.py" --proto "$SL_SRC/tests/data/play_event.proto" \
  --tmp "$T" --expect "$T/js.pb" --kcat "$T/js.out" --jsonl --partitions 2

# kcat produces to dev-kafka (an unknown topic: auto-created by the mock)
printf 'a\nb\nc\n' | kcat -b "$BROKERS" -P -t fromkcat -k K
got=$(kcat -b "$BROKERS" -C -t fromkcat -o beginning -e -q -f '%k=%s\n' | sort | tr '\n' ' ')
[ "$got" = "K=a K=b K=c " ] || fail "kcat round trip: '$got'"
kcat -b "$BROKERS" -L -t fromkcat | grep -q 'topic "fromkcat" with 4 partitions' ||
  fail "auto-created topic: $(kcat -b "$BROKERS" -L -t fromkcat)"

# --rate: 1000 events at 2000/s cannot finish in much under 0.5 s
s0=$(date +%s%N)
"$SLUICE" gen --count 1000 --rate 2000 --brokers "$BROKERS" --topic paced --quiet
ms=$(( ($(date +%s%N) - s0) / 1000000 ))
[ $ms -ge 400 ] || fail "--rate 2000 sent 1000 events in $ms ms"
echo "rate: 1000 events at --rate 2000 took $ms ms"

# errors
set +e
timeout 60 "$SLUICE" gen --count 10 --brokers 127.0.0.1:1 --topic nowhere -X message.timeout.ms=2000 \
  --quiet 2> "$T/down.err"; st=$?
"$SLUICE" gen --count 10 --brokers "$BROKERS" --output "$T/x.pb" 2> /dev/null; st2=$?
"$SLUICE" gen --count 10 --topic t 2> /dev/null; st3=$?
"$SLUICE" gen --count 10 --brokers "$BROKERS" --topic t -X nosuch.prop=1 2> "$T/x.err"; st4=$?
"$SLUICE" dev-kafka --topic 'bad/name:2' > /dev/null 2> "$T/bad.err"; st5=$?
set -e
[ $st -eq 1 ] || fail "gen to an unreachable broker exited $st: $(cat "$T/down.err")"
grep -q "topic nowhere" "$T/down.err" || fail "error does not name the topic: $(cat "$T/down.err")"
[ $st2 -eq 2 ] && [ $st3 -eq 2 ] || fail "usage errors exited $st2 $st3"
[ $st4 -eq 1 ] && grep -q "nosuch.prop" "$T/x.err" || fail "-X bad property: $st4 $(cat "$T/x.err")"
[ $st5 -eq 1 ] && grep -q "bad/name" "$T/bad.err" || fail "bad topic: $st5 $(cat "$T/bad.err")"

# SIGTERM: exit 0, bootstrap file removed
"$SLUICE" dev-kafka --bootstrap-file "$T/boot" > "$T/dk.out" &
pid=$!
for i in $(seq 100); do [ -s "$T/boot" ] && break; sleep 0.05; done
[ "$(cat "$T/boot")" = "$(head -n1 "$T/dk.out")" ] || fail "stdout and bootstrap file differ"
kill -TERM $pid
wait $pid || fail "dev-kafka exited $? on SIGTERM"
[ ! -e "$T/boot" ] || fail "bootstrap file left behind"
echo "0020 ok"
