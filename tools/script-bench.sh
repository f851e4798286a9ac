#!/usr/bin/env bash
# script-bench.sh OUR_SERVER_BIN [REAL_SERVER_BIN]
#
# Throughput of EVALSHA (and FCALL) under the real redis-benchmark, ours over real Redis 7.0.15,
# interleaved per round so both see the same machine load. Prints one ratio per case and the
# median over ROUNDS. The scripts are the issue's: INCR of one key through redis.call.
#
# Env: ROUNDS (5) N (100000) P (16) C (50) CASES ("evalsha fcall")
set -uo pipefail
OURS=$(realpath "${1:?usage: $0 OUR_SERVER_BIN [REAL_SERVER_BIN]}")
REAL=${2:-/usr/bin/redis-server}
BENCH=${BENCH:-/usr/bin/redis-benchmark}
CLI=${CLI:-/usr/bin/redis-cli}
ROUNDS=${ROUNDS:-5}
N=${N:-100000}
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

start "$OURS"; OUR_PORT=$PORT
start "$REAL"; REAL_PORT=$PORT
SCRIPT='return redis.call("INCR", KEYS[1])'
LIBRARY=$'#!lua name=bench\nredis.register_function("incr", function(keys, args) return redis.call("INCR", keys[1]) end)'
for port in "$OUR_PORT" "$REAL_PORT"; do
  "$CLI" -p "$port" function load replace "$LIBRARY" >/dev/null
done
SHA=$("$CLI" -p "$OUR_PORT" script load "$SCRIPT")
[ "$SHA" = "$("$CLI" -p "$REAL_PORT" script load "$SCRIPT")" ] || { echo "SHA mismatch" >&2; exit 1; }

rps() { # port args... -> requests per second
  local port=$1; shift
  "$BENCH" -p "$port" -n "$N" -P "$P" -c "$C" --csv "$@" 2>/dev/null |
    awk -F'","' 'NR==2 {print $2}'
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for case in $CASES; do
  case $case in
    evalsha) args=(evalsha "$SHA" 1 k) ;;
    fcall) args=(fcall incr 1 k) ;;
    *) echo "unknown case $case" >&2; exit 64 ;;
  esac
  ratios=()
  for round in $(seq "$ROUNDS"); do
    if (( round % 2 )); then
      ours=$(rps "$OUR_PORT" "${args[@]}"); real=$(rps "$REAL_PORT" "${args[@]}")
    else
      real=$(rps "$REAL_PORT" "${args[@]}"); ours=$(rps "$OUR_PORT" "${args[@]}")
    fi
    ratio=$(awk -v a="$ours" -v b="$real" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}')
    ratios+=("$ratio")
    printf '%s round %d: ours %s real %s ratio %s\n' "$case" "$round" "$ours" "$real" "$ratio"
  done
  printf 'script-bench: %s -P %s median ratio=%s\n' "$case" "$P" "$(printf '%s\n' "${ratios[@]}" | median)"
done
