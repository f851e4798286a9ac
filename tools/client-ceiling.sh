#!/usr/bin/env bash
# client-ceiling.sh [REAL_SERVER_BIN]
#
# How fast can any server look to the real redis-benchmark on this machine? Runs perf.sh's
# -P 16 tests against real Redis 7.0.15 and against a null server (redis-benchmark's example
# `null_server`: a fixed reply per command, no work at all), interleaved per round, and prints
# null/real per test and the geometric means of the issue-2 set (set get incr mset) and the
# issue-3 set (lpush rpush lpop rpop sadd hset spop zadd zpopmin lrange_100).
# A ratio near 1 means the benchmark client, not the server, is the limit: no server can
# show much more than that ratio over Redis here. (The null replies for pops are a short
# bulk where Redis's may be longer, which only flatters the null server.)
# Caveat: it is not a strict bound. Real Redis outran it on GET (1.1x, session 9): the client's
# kernel time per request grows when the server idles between reads (each send then wakes it),
# which a server busy near a full core spares the client.
#
# Env: ROUNDS (3) N (1000000) P (16) C (50) TESTS (space-separated; a set none of whose tests
# ran prints -)
set -uo pipefail
REAL=${1:-/usr/bin/redis-server}
BENCH=${BENCH:-/usr/bin/redis-benchmark}
CLI=${CLI:-/usr/bin/redis-cli}
ROUNDS=${ROUNDS:-3}
N=${N:-1000000}
P=${P:-16}
C=${C:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet -p redis-benchmark --example null_server --manifest-path "$ROOT/Cargo.toml" || exit 1
NULL="$ROOT/target/release/examples/null_server"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
pids=()
dir=$(mktemp -d)
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT

declare -A NULL_PORT
for kind in ok bulk int array100; do
  port=$(free_port)
  "$NULL" "$port" "$kind" & pids+=($!)
  NULL_PORT[$kind]=$port
done
REAL_PORT=$(free_port)
(cd "$dir" && exec "$REAL" --port "$REAL_PORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1) &
pids+=($!)
for _ in $(seq 100); do "$CLI" -p "$REAL_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

declare -A KIND=([set]=ok [get]=bulk [incr]=int [mset]=ok [lpush]=int [rpush]=int [lpop]=bulk
  [rpop]=bulk [sadd]=int [hset]=int [spop]=bulk [zadd]=int [zpopmin]=bulk [lrange_100]=array100)
TESTS=${TESTS:-"set get incr mset lpush rpush lpop rpop sadd hset spop zadd zpopmin lrange_100"}
rps() { # port test -> requests per second
  "$BENCH" -p "$1" -n "$N" -P "$P" -c "$C" -r 100000 -t "$2" -q 2>/dev/null | tr '\r' '\n' |
    grep -o '[0-9.]* requests' | tail -1 | cut -d' ' -f1
}
declare -A SUM
for round in $(seq "$ROUNDS"); do
  "$CLI" -p "$REAL_PORT" flushall >/dev/null
  for t in $TESTS; do
    real=$(rps "$REAL_PORT" "$t")
    null=$(rps "${NULL_PORT[${KIND[$t]}]}" "$t")
    ratio=$(python3 -c "print(round($null/$real, 3))")
    echo "round $round $t: real $real null $null null/real $ratio"
    SUM[$t]="${SUM[$t]:-} $ratio"
  done
done
geomean() { # test... -> geometric mean of every round's ratio of those tests
  local all=""
  for t in "$@"; do all="$all ${SUM[$t]:-}"; done
  [ -n "${all// /}" ] || { echo "-"; return; }
  python3 -c "import math,sys; v=[float(x) for x in sys.argv[1:]]; print(round(math.exp(sum(map(math.log,v))/len(v)),3))" $all
}
echo "client-ceiling: P$P null/real geomean issue-2 set=$(geomean set get incr mset)" \
  "issue-3 set=$(geomean lpush rpush lpop rpop sadd hset spop zadd zpopmin lrange_100)"
