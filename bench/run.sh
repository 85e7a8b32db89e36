#!/usr/bin/env bash
# bench/run.sh - build the benchmarks optimised and print ours beside the peers'.
#
# usage: bench/run.sh [--quick] [NAME...]
#   --quick  tiny sizes, a smoke test; figures mean nothing
#   NAME     run only these: bench_loop, bench_coro, bench_tasks, bench_sync, echo
#   env: BENCH_BUILD_DIR (build-bench), CXX (g++), PYTHON (python3 on PATH), BENCH_CPU (0);
#        the echo benchmark's: ECHO_RUNS (2), ECHO_DUR (2 s), ECHO_WARM (0.5 s),
#        SERVER_CPU (0), CLIENT_CPU (1), PY_UVLOOP (/usr/bin/python3)
#
# Makes its own build directory (release: -O2 -DNDEBUG, -Dbench=true) if missing,
# runs each bench binary and its asyncio peer pinned to one CPU, and prints one
# markdown table per lesson on stdout; then lesson 5's echo benchmark
# (bench/echo_bench.py: our servers and the peers, a load generator on the other CPU).
# Nothing is written into the source tree.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=()
ONLY=()
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=(--quick) ;;
        bench_loop | bench_coro | bench_tasks | bench_sync | echo) ONLY+=("$arg") ;;
        *) echo "usage: bench/run.sh [--quick] [bench_loop|bench_coro|bench_tasks|bench_sync|echo]..." >&2; exit 2 ;;
    esac
done
wanted() { ((${#ONLY[@]} == 0)) || [[ " ${ONLY[*]} " == *" $1 "* ]]; }
BUILD="${BENCH_BUILD_DIR:-build-bench}"
PYTHON="${PYTHON:-python3}"
PYTHON="$("$PYTHON" -c 'import sys; print(sys.executable)')"  # past any pyenv shim

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

if [ ! -f "$BUILD/build.ninja" ]; then
    CXX="${CXX:-g++}" meson setup "$BUILD" --buildtype=release -Doptimization=2 \
        -Db_ndebug=true -Dbench=true >"$TMP/setup.log" 2>&1 ||
        { cat "$TMP/setup.log" >&2; exit 1; }
fi
# One table per bench binary: BINARY PEER_SCRIPT TITLE. Later lessons add a line.
BENCHES=(
    "bench_loop loop_micro.py Lesson 1: the loop"
    "bench_coro coro_micro.py Lesson 2: coroutines and futures"
    "bench_tasks tasks_micro.py Lesson 3: tasks"
    "bench_sync sync_micro.py Lesson 4: locks and queues"
)
targets=()
for b in "${BENCHES[@]}"; do wanted "${b%% *}" && targets+=("bench/${b%% *}"); done
# Lesson 5's echo servers and load generator; the peers that were configured (a peer
# whose library is missing has no target: echo_bench.py says so in its table).
if wanted echo; then
    known="$(ninja -C "$BUILD" -t targets all 2>/dev/null || true)"
    for t in echo_streams echo_protocol loadgen epoll_echo uv_echo asio_echo; do
        if [[ $'\n'"$known" == *$'\n'"bench/$t: "* ]]; then targets+=("bench/$t"); fi
    done
fi
ninja -C "$BUILD" "${targets[@]}" >"$TMP/build.log" 2>&1 ||
    { cat "$TMP/build.log" >&2; echo "bench/run.sh: build failed (rm -rf $BUILD to reconfigure)" >&2; exit 1; }

PIN=()
if command -v taskset >/dev/null && taskset -c "${BENCH_CPU:-0}" true 2>/dev/null; then
    PIN=(taskset -c "${BENCH_CPU:-0}")
fi
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
py="$("$PYTHON" -c 'import platform; print(platform.python_implementation(), platform.python_version())')"

for b in "${BENCHES[@]}"; do
    read -r bin peer title <<<"$b"
    wanted "$bin" || continue
    "${PIN[@]}" "$BUILD/bench/$bin" --json "${QUICK[@]}" >"$TMP/$bin.aio.jsonl"
    "${PIN[@]}" "$PYTHON" "bench/peers/$peer" "${QUICK[@]}" >"$TMP/$bin.cpython.jsonl"
    build="$("$PYTHON" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["build"])' \
        "$TMP/$bin.aio.jsonl")"
    echo "## $title ($bin vs bench/peers/$peer)"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'); ${cpu:-unknown CPU}, $(nproc) CPUs;" \
        "ours: $build; peer: $py asyncio; ${PIN[*]:-not pinned}${QUICK:+; QUICK: figures meaningless}"
    echo
    "$PYTHON" bench/report.py "$TMP/$bin.aio.jsonl" "$TMP/$bin.cpython.jsonl"
    echo
done

if wanted echo; then
    echo "## Lesson 5: echo (bench/echo_bench.py: our servers and the peers, bench/peers/echo/)"
    echo
    node="$(node --version 2>/dev/null || echo none)"
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'); ${cpu:-unknown CPU}, $(nproc) CPUs; ours: g++ -O2 NDEBUG;" \
        "asyncio: $py; uvloop: ${PY_UVLOOP:-/usr/bin/python3}; node $node;" \
        "server on CPU ${SERVER_CPU:-0}, loadgen on CPU ${CLIENT_CPU:-1}${QUICK:+; QUICK: figures meaningless}"
    echo
    "$PYTHON" bench/echo_bench.py "$BUILD" "${QUICK[@]}" 2>"$TMP/echo.log" ||
        { cat "$TMP/echo.log" >&2; exit 1; }
    echo
fi
