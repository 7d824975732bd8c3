#!/usr/bin/env bash
# make bench: sluice against DuckDB on the reference workload, side by side
# in one run, on the same events (docs/benchmarks.md explains every figure).
#
#   BENCH_COUNT=1000000   events (default 1,000,000)
#   BENCH_RUNS=3          runs per measurement; the median is reported
#   BENCH_CPU=0           the core every single-threaded measurement is pinned to
#   SLUICE=build/sluice   the binary (make bench builds build/sluice, Release)
#
# Steps: sluice gen writes events.pb and events.jsonl (the same events);
# DuckDB converts the JSON lines to Parquet zstd on 1 thread, and encodes an
# in-memory table of them (encode only, 1 thread); sluice converts the
# protobuf to Parquet (zstd and uncompressed) pinned to one core; zstd -1
# and lz4 -1 compress the uncompressed Parquet file as the codec floor.
# Work files go to bench-out/ (gitignored); the table is printed and
# written to bench-out/results.md. Nothing here uses gen_events.py.
set -euo pipefail
cd "$(dirname "$0")/.."
S=${SLUICE:-build/sluice}
N=${BENCH_COUNT:-1000000}
RUNS=${BENCH_RUNS:-3}
CPU=${BENCH_CPU:-0}
W=bench-out
PROTO=bench/play_event.proto
PEER=bench/duckdb_peer.mjs

die() { echo "bench: $*" >&2; exit 1; }
[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "BENCH_COUNT must be a positive whole number, not '$N'"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive whole number, not '$RUNS'"
[ -x "$S" ] || die "$S not found: run 'make' first (or set SLUICE)"
command -v node >/dev/null || die "node not found: run 'scripts/deps.sh bench'"
[ -d tests/tools/node_modules/@duckdb/node-api ] ||
  die "@duckdb/node-api missing in tests/tools: run 'scripts/deps.sh bench'"
PIN=()
if command -v taskset >/dev/null; then PIN=(taskset -c "$CPU"); fi
TIME=""
[ -x /usr/bin/time ] && TIME=/usr/bin/time
mkdir -p "$W"
rm -f "$W"/*.parquet "$W"/results.md

# ---- helpers ----
# timed CMD...: runs CMD (stdout -> $W/last.out, stderr -> $W/last.err);
# sets T_SECS (wall, ns clock) and T_RSS (peak RSS in KiB, "" if unknown).
# T_OUT=FILE before the call sends stdout there instead.
timed() {
  local t0 t1 st
  t0=$(date +%s%N)
  set +e
  if [ -n "$TIME" ]; then
    "$TIME" -f %M -o "$W/rss.txt" "$@" >"${T_OUT:-$W/last.out}" 2>"$W/last.err"
  else
    "$@" >"${T_OUT:-$W/last.out}" 2>"$W/last.err"
  fi
  st=$?
  set -e
  t1=$(date +%s%N)
  T_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
  T_RSS=""
  [ -n "$TIME" ] && T_RSS=$(tail -n 1 "$W/rss.txt")
  return $st
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
rate() { awk -v n="$N" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
jfield() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; } # a number field of the peer's JSON lines

ROWS=() # table rows: what|rows/s|median s|output MB|peak RSS MB|notes
row() { ROWS+=("$1|$2|$3|$4|$5|$6"); }
rss_mb() { if [ -n "$1" ]; then awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; else echo "n/a"; fi; }
note() { printf '\n== %s\n' "$*"; }

# ---- 1. sluice gen ----
for fmt in pb-delimited jsonl; do
  out=$W/events.pb
  [ $fmt = jsonl ] && out=$W/events.jsonl
  note "sluice gen --format $fmt: $N events, $RUNS runs"
  secs=() rss=()
  for ((r = 1; r <= RUNS; r++)); do
    timed "${PIN[@]}" "$S" gen --count "$N" --format $fmt --output "$out" ||
      die "sluice gen failed: $(cat "$W/last.err")"
    sed 's/^/  /' "$W/last.err"
    secs+=("$T_SECS") rss+=("$T_RSS")
  done
  m=$(median "${secs[@]}")
  row "sluice gen $fmt (1 core, wall incl. fsync)" "$(rate "$m")" "$m" \
    "$(mb "$(stat -c %s "$out")")" "$(rss_mb "$(maxof "${rss[@]}")")" ""
done
cat "$W/events.pb" "$W/events.jsonl" >/dev/null # both inputs in the page cache

# ---- 2. DuckDB ----
note "DuckDB: JSON lines -> Parquet zstd, 1 thread, $RUNS runs"
secs=() rss=()
for ((r = 1; r <= RUNS; r++)); do
  timed "${PIN[@]}" node "$PEER" convert "$W/events.jsonl" "$W/duckdb-convert.parquet" 1 zstd ||
    die "DuckDB convert failed: $(cat "$W/last.err")"
  sed 's/^/  /' "$W/last.out"
  [ "$(jfield rows <"$W/last.out")" = "$N" ] || die "DuckDB convert: wrong row count"
  secs+=("$(jfield secs <"$W/last.out")") rss+=("$T_RSS")
done
DUCK_CONVERT=$(median "${secs[@]}")
DUCK_BYTES=$(stat -c %s "$W/duckdb-convert.parquet")
row "DuckDB JSON lines -> Parquet zstd, 1 thread" "$(rate "$DUCK_CONVERT")" "$DUCK_CONVERT" \
  "$(mb "$DUCK_BYTES")" "$(rss_mb "$(maxof "${rss[@]}")")" "timed inside the process"

note "DuckDB: in-memory table -> Parquet (encode only), 1 thread, $RUNS runs per codec"
timed "${PIN[@]}" node "$PEER" encode "$W/events.jsonl" "$W/duckdb-encode-%c.parquet" 1 "$RUNS" \
  zstd,uncompressed || die "DuckDB encode failed: $(cat "$W/last.err")"
sed 's/^/  /' "$W/last.out"
ENC_RSS=$T_RSS
for codec in zstd uncompressed; do
  mapfile -t secs < <(grep "\"codec\":\"$codec\"" "$W/last.out" | jfield secs)
  [ ${#secs[@]} -eq "$RUNS" ] || die "DuckDB encode $codec: expected $RUNS timings"
  m=$(median "${secs[@]}")
  [ $codec = zstd ] && DUCK_ENCODE=$m
  row "DuckDB in-memory table -> Parquet $codec (encode only), 1 thread" "$(rate "$m")" "$m" \
    "$(mb "$(stat -c %s "$W/duckdb-encode-$codec.parquet")")" "$(rss_mb "$ENC_RSS")" \
    "COPY only; table loaded before timing"
done

# ---- 3. sluice convert ----
note "sluice convert: protobuf -> Parquet, 1 core"
"$S" gen --count 100 --output "$W/probe.pb" --quiet
CONVERT=(convert --schema "$PROTO" --message bench.PlayEvent --input-format pb-delimited)
SL_ZSTD="" SL_NONE="" SL_BYTES=""
if "$S" "${CONVERT[@]}" --input "$W/probe.pb" --output "$W/probe.parquet" >/dev/null 2>"$W/last.err" &&
   [ -s "$W/probe.parquet" ]; then
  for codec in zstd none; do
    secs=() rss=()
    for ((r = 1; r <= RUNS; r++)); do
      timed "${PIN[@]}" "$S" "${CONVERT[@]}" --input "$W/events.pb" \
        --output "$W/sluice-$codec.parquet" --compression $codec ||
        die "sluice convert --compression $codec failed: $(cat "$W/last.err")"
      secs+=("$T_SECS") rss+=("$T_RSS")
      echo "  $codec run $r: $T_SECS s"
    done
    rows=$(node "$PEER" count "$W/sluice-$codec.parquet")
    [ "$rows" = "$N" ] || die "sluice convert $codec: DuckDB reads $rows rows, expected $N"
    m=$(median "${secs[@]}")
    [ $codec = zstd ] && SL_ZSTD=$m && SL_BYTES=$(stat -c %s "$W/sluice-zstd.parquet")
    [ $codec = none ] && SL_NONE=$m
    row "sluice convert pb -> Parquet $codec, 1 core" "$(rate "$m")" "$m" \
      "$(mb "$(stat -c %s "$W/sluice-$codec.parquet")")" "$(rss_mb "$(maxof "${rss[@]}")")" \
      "wall of the whole process"
  done
else
  echo "sluice convert: not available ($(head -n 1 "$W/last.err"))"
  row "sluice convert pb -> Parquet zstd, 1 core" "not available" "" "" "" \
    "sluice convert: not available"
fi

# ---- 4. codec floor ----
FLOOR_IN=$W/sluice-none.parquet FLOOR_WHO="sluice's"
if [ -z "$SL_NONE" ]; then FLOOR_IN=$W/duckdb-encode-uncompressed.parquet FLOOR_WHO="DuckDB's"; fi
cat "$FLOOR_IN" >/dev/null
for tool in "zstd -1 -T1" "lz4 -1"; do
  bin=${tool%% *}
  if ! command -v "$bin" >/dev/null; then
    row "codec floor: $tool" "not available" "" "" "" "install $bin"
    continue
  fi
  note "codec floor: $tool on $FLOOR_WHO uncompressed Parquet, $RUNS runs"
  secs=()
  for ((r = 1; r <= RUNS; r++)); do
    # shellcheck disable=SC2086 # $tool is a command and its flags
    T_OUT=/dev/null timed "${PIN[@]}" $tool -q -c "$FLOOR_IN" || die "$tool failed: $(cat "$W/last.err")"
    secs+=("$T_SECS")
  done
  m=$(median "${secs[@]}")
  # shellcheck disable=SC2086
  out_bytes=$($tool -q -c "$FLOOR_IN" | wc -c)
  row "codec floor: $tool on $FLOOR_WHO uncompressed file ($(mb "$(stat -c %s "$FLOOR_IN")") MB)" \
    "$(rate "$m")" "$m" "$(mb "$out_bytes")" "" "compression alone, rows/s equivalent"
done

# ---- 5. table ----
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v g="$2" -v op="$3" 'BEGIN { ok = (op == ">=" ? v >= g : v <= g); print (ok ? "met" : "MISSED") }'; }
GOALS=()
if [ -n "$SL_ZSTD" ]; then
  r1=$(ratio "$DUCK_CONVERT" "$SL_ZSTD") r2=$(ratio "$DUCK_ENCODE" "$SL_ZSTD")
  r3=$(rate "$SL_NONE") r4=$(ratio "$SL_BYTES" "$DUCK_BYTES")
  GOALS+=("sluice zstd vs DuckDB JSON->Parquet 1 thread (rows/s)|${r1}x|>= 5x|$(verdict "$r1" 5 '>=')")
  GOALS+=("sluice zstd vs DuckDB encode-only 1 thread (rows/s)|${r2}x|>= 2.3x|$(verdict "$r2" 2.3 '>=')")
  GOALS+=("sluice uncompressed rows/s|$r3|>= 1500000|$(verdict "$r3" 1500000 '>=')")
  GOALS+=("sluice zstd output size vs DuckDB zstd|${r4}x|<= 1.1x|$(verdict "$r4" 1.1 '<=')")
else
  GOALS+=("all ratios|sluice convert: not available|5x, 2.3x, 1.5M rows/s, 1.1x|")
fi

{
  echo "sluice bench: $N events ($(mb "$(stat -c %s "$W/events.pb")") MB protobuf," \
       "$(mb "$(stat -c %s "$W/events.jsonl")") MB JSON lines), median of $RUNS runs," \
       "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m)," \
       "pinned: ${PIN[*]:-no (taskset missing)}"
  echo
  echo "| what | rows/s | median s | output MB | peak RSS MB | notes |"
  echo "|---|---:|---:|---:|---:|---|"
  for r in "${ROWS[@]}"; do echo "| ${r//|/ | } |"; done
  echo
  echo "| goal | value | target | |"
  echo "|---|---:|---|---|"
  for g in "${GOALS[@]}"; do echo "| ${g//|/ | } |"; done
} >"$W/results.md"
printf '\n'
# the same table, aligned for a terminal
awk -F'|' '/^\|---/ { next }
           /^\|/ { n = NF; for (i = 2; i < NF; i++) { gsub(/^ +| +$/, "", $i); c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } rows[++k] = NR; nf[NR] = NF; next }
           { flush(); print; next }
           function flush(   j, i) { for (j = 1; j <= k; j++) { for (i = 2; i < nf[rows[j]]; i++) printf "%-*s  ", w[i], c[rows[j], i]; printf "\n" } k = 0; delete w }
           END { flush() }' "$W/results.md"
echo
echo "bench: table written to $W/results.md"
