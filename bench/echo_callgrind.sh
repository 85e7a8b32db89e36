#!/usr/bin/env bash
# bench/echo_callgrind.sh - user-space instructions per echo request, under callgrind.
#
# usage: bench/echo_callgrind.sh [SERVER...]   (default: echo_streams echo_protocol
#                                               epoll_echo uv_echo asio_echo)
#   env: BENCH_BUILD_DIR (build-bench), CONNS (64), SIZE (64), DUR (2 s), OUT (a temp dir)
#
# Time on this shared VM is noisy; instruction counts are exact. Each server runs twice
# under valgrind --tool=callgrind: start, a 1-second loadgen run to warm it
# (connections accepted, pools and buffers at their steady size), then a second run
# of DUR seconds (first time) or 3 * DUR (second time), then SIGTERM. Ir/request =
# the difference of the two runs' total Ir / the difference of the requests loadgen
# completed in the second run, so start-up, warm-up and exit cancel out (the up to
# CONNS requests in flight at a deadline are served but not counted: < 1 % here).
# (callgrind_control -z / -d around one run would be simpler, but the dump it writes
# attributes everything to __libc_start_main in callgrind_annotate 3.19.) Kernel work (recv, send, epoll_wait) is not counted at all:
# callgrind sees user space only, so this says how much our library adds on top of
# the system calls, not the whole cost of a request. Prints one line per server and
# keeps the longer run's profile in OUT for `callgrind_annotate OUT/SERVER.out`.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BENCH_BUILD_DIR:-build-bench}"
CONNS="${CONNS:-64}"
SIZE="${SIZE:-64}"
DUR="${DUR:-2}"
OUT="${OUT:-$(mktemp -d)}"
SERVERS=("$@")
((${#SERVERS[@]})) || SERVERS=(echo_streams echo_protocol epoll_echo uv_echo asio_echo)
command -v valgrind >/dev/null || { echo "echo_callgrind.sh: apt-get install valgrind" >&2; exit 1; }

port_of() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# profile SERVER SECONDS: runs it under callgrind; prints "TOTAL_IR REQUESTS"
profile() {
    local s=$1 secs=$2 port pid line
    port=$(port_of)
    local -a args=("$port")
    [[ $s == echo_streams ]] && args+=("$SIZE")
    valgrind --tool=callgrind --callgrind-out-file="$OUT/$s.$secs.out" "$BUILD/bench/$s" \
        "${args[@]}" 2>"$OUT/$s.valgrind.log" &
    pid=$!
    wait_port "$port" || { echo "$s: did not start" >&2; kill "$pid"; return 1; }
    "$BUILD/bench/loadgen" -p "$port" -c "$CONNS" -s "$SIZE" -d 1 -w 0 >/dev/null
    line=$("$BUILD/bench/loadgen" -p "$port" -c "$CONNS" -s "$SIZE" -d "$secs" -w 0)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$(sed -n 's/^summary: //p' "$OUT/$s.$secs.out")" \
        "$(sed -n 's/.* completed=\([0-9]*\) .*/\1/p' <<<"$line")"
}

for s in "${SERVERS[@]}"; do
    [[ -x $BUILD/bench/$s ]] || { echo "$s: not built"; continue; }
    read -r ir1 req1 < <(profile "$s" "$DUR") || continue
    read -r ir2 req2 < <(profile "$s" "$((3 * DUR))") || continue
    mv "$OUT/$s.$((3 * DUR)).out" "$OUT/$s.out"
    rm -f "$OUT/$s.$DUR.out"
    awk -v s="$s" -v i=$((ir2 - ir1)) -v r=$((req2 - req1)) -v c="$CONNS" -v z="$SIZE" \
        'BEGIN{printf "%s: %.0f Ir/request (%d more requests, %d conns x %d B)\n", s, i / r, r, c, z}'
done
echo "dumps: $OUT"
