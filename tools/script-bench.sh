#!/usr/bin/env bash
# script-bench.sh OUR_SERVER_BIN [REAL_SERVER_BIN]
#
# Throughput of EVALSHA (and FCALL) under the real redis-benchmark, ours over real Redis 7.0.15,
# interleaved per round so both see the same machine load. Prints one ratio per case and the
# median over ROUNDS. The scripts are the issue's: INCR of one key through redis.call.
# Also the servers' CPU time per request (utime+stime from /proc/PID/stat around each run,
# in microseconds), which neighbours on a shared machine disturb much less than throughput;
# its ratio is real over ours (above 1: we spend less per request).
#
# Env: ROUNDS (5) N (100000) P (16) C (50) CASES ("evalsha fcall")
set -uo pipefail
OURS=$(realpath "${1:?usage: $0 OUR_SERVER_BIN [REAL_SERVER_BIN]}")
REAL=${2:-/usr/bin/redis-server}
BENCH=${BENCH:-/usr/bin/redis-benchmark}
CLI=${CLI:-/usr/bin/redis-cli}
ROUNDS=${ROUNDS:-5}
N=${N:-300000}
P=${P:-16}
C=${C:-50}
CASES=${CASES:-evalsha fcall}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

dirs=()
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for d in "${dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

start() { # bin -> sets PORT
  local bin=$1 port dir
  port=$(free_port)
  dir=$(mktemp -d)
  dirs+=("$dir")
  (cd "$dir" && exec "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1) &
  pids+=($!)
  for _ in $(seq 100); do
    "$CLI" -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  PORT=$port
}

start "$OURS"; OUR_PORT=$PORT; OUR_PID=${pids[-1]}
start "$REAL"; REAL_PORT=$PORT; REAL_PID=${pids[-1]}
HZ=$(getconf CLK_TCK)
SCRIPT='return redis.call("INCR", KEYS[1])'
LIBRARY=$'#!lua name=bench\nredis.register_function("incr", function(keys, args) return redis.call("INCR", keys[1]) end)'
for port in "$OUR_PORT" "$REAL_PORT"; do
  "$CLI" -p "$port" function load replace "$LIBRARY" >/dev/null
done
SHA=$("$CLI" -p "$OUR_PORT" script load "$SCRIPT")
[ "$SHA" = "$("$CLI" -p "$REAL_PORT" script load "$SCRIPT")" ] || { echo "SHA mismatch" >&2; exit 1; }

ticks() { # pid -> utime+stime of the process, in clock ticks
  awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"
}

rps() { # port pid args... -> "requests-per-second cpu-us-per-request"
  local port=$1 pid=$2 before after rate; shift 2
  before=$(ticks "$pid")
  rate=$("$BENCH" -p "$port" -n "$N" -P "$P" -c "$C" --csv "$@" 2>/dev/null |
    awk -F'","' 'NR==2 {print $2}')
  after=$(ticks "$pid")
  printf '%s %s\n' "$rate" "$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$N" \
    'BEGIN {printf "%.2f", t * 1e6 / hz / n}')"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for case in $CASES; do
  case $case in
    evalsha) args=(evalsha "$SHA" 1 k) ;;
    fcall) args=(fcall incr 1 k) ;;
    *) echo "unknown case $case" >&2; exit 64 ;;
  esac
  ratios=()
  cpu_ratios=()
  for round in $(seq "$ROUNDS"); do
    if (( round % 2 )); then
      read -r ours ours_cpu < <(rps "$OUR_PORT" "$OUR_PID" "${args[@]}")
      read -r real real_cpu < <(rps "$REAL_PORT" "$REAL_PID" "${args[@]}")
    else
      read -r real real_cpu < <(rps "$REAL_PORT" "$REAL_PID" "${args[@]}")
      read -r ours ours_cpu < <(rps "$OUR_PORT" "$OUR_PID" "${args[@]}")
    fi
    ratio=$(awk -v a="$ours" -v b="$real" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}')
    cpu_ratio=$(awk -v a="$ours_cpu" -v b="$real_cpu" 'BEGIN {printf "%.3f", (a > 0) ? b / a : 0}')
    ratios+=("$ratio")
    cpu_ratios+=("$cpu_ratio")
    printf '%s round %d: ours %s real %s ratio %s | cpu us/req ours %s real %s ratio %s\n' \
      "$case" "$round" "$ours" "$real" "$ratio" "$ours_cpu" "$real_cpu" "$cpu_ratio"
  done
  printf 'script-bench: %s -P %s median ratio=%s cpu ratio=%s\n' "$case" "$P" \
    "$(printf '%s\n' "${ratios[@]}" | median)" "$(printf '%s\n' "${cpu_ratios[@]}" | median)"
done
