# devkafka.sh - sourced by test scripts: run `sluice dev-kafka` in the
# background for the life of the script.
#
#   source "$SL_SRC/tests/tools/devkafka.sh"
#   devkafka_start --topic events:4 [--brokers 3] ...   # sets $BROKERS
#   ... produce/consume against "$BROKERS" ...
#   devkafka_stop        # optional: also runs on EXIT
#
# devkafka_start passes its arguments to `sluice dev-kafka` ($SLUICE), waits
# (up to $DEVKAFKA_WAIT_S, default 30 s) for the bootstrap file, which the
# command writes atomically only once the cluster and its topics are ready,
# and sets BROKERS to its content. If the command dies first, its stderr is
# shown and devkafka_start returns 1 (under `set -e` the script ends).
# Several clusters may run at once: each call sets BROKERS to the newest,
# DEVKAFKA_PID to its process id, and devkafka_stop stops them all.
#
# The stop runs on EXIT: it is chained in front of an EXIT trap that exists
# when devkafka_start is called. A script that sets its own EXIT trap after
# devkafka_start must call devkafka_stop from it.
# Stopping sends SIGTERM, waits up to 5 s, then SIGKILL (a mock cluster has
# nothing to save). Each process is stopped by its own pid only.

DEVKAFKA_PIDS=()
DEVKAFKA_FILES=()
DEVKAFKA_TRAPPED=0

devkafka_stop() {
  local pid i
  for pid in "${DEVKAFKA_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for i in "${DEVKAFKA_FILES[@]}"; do rm -f "$i" "$i.log"; done
  DEVKAFKA_PIDS=()
  DEVKAFKA_FILES=()
}

devkafka_start() {
  : "${SLUICE:?path of the sluice binary}"
  local dir="${SL_TMP:-/tmp}" n=${#DEVKAFKA_FILES[@]} i
  mkdir -p "$dir"
  local file="$dir/devkafka.$$.$n.boot"
  rm -f "$file"
  if [ "$DEVKAFKA_TRAPPED" = 0 ]; then
    local prev=()
    eval "prev=($(trap -p EXIT))"
    if [ ${#prev[@]} -ge 3 ]; then
      trap -- "devkafka_stop; ${prev[2]}" EXIT
    else
      trap -- devkafka_stop EXIT
    fi
    DEVKAFKA_TRAPPED=1
  fi
  "$SLUICE" dev-kafka "$@" --bootstrap-file "$file" > /dev/null 2> "$file.log" &
  DEVKAFKA_PID=$!
  DEVKAFKA_PIDS+=("$DEVKAFKA_PID")
  DEVKAFKA_FILES+=("$file")
  local ticks=$(( ${DEVKAFKA_WAIT_S:-30} * 20 ))
  for ((i = 0; i < ticks; i++)); do
    if [ -s "$file" ]; then
      BROKERS=$(head -n1 "$file")
      export BROKERS
      return 0
    fi
    if ! kill -0 "$DEVKAFKA_PID" 2>/dev/null; then
      echo "devkafka_start: sluice dev-kafka $* exited before it was ready:" >&2
      cat "$file.log" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "devkafka_start: sluice dev-kafka $* not ready after ${DEVKAFKA_WAIT_S:-30} s" >&2
  cat "$file.log" >&2
  return 1
}
