#!/usr/bin/env bash
# bench/run.sh - build the benchmarks optimised and print ours beside the peers'.
#
# usage: bench/run.sh [--quick] [NAME...]
#   --quick  tiny sizes, a smoke test; figures mean nothing
#   NAME     run only these: bench_loop, bench_coro, bench_tasks, bench_sync, scale, echo
#   env: BENCH_BUILD_DIR (build-bench), CXX (g++), PYTHON (python3 on PATH), BENCH_CPU (0),
#        BENCH_RESULTS (a full run's dated file: bench/results/YYYY-MM-DD.md; "-": none);
#        the echo benchmark's: ECHO_RUNS (2), ECHO_DUR (2 s), ECHO_WARM (0.5 s),
#        SERVER_CPU (0), CLIENT_CPU (1), PY_UVLOOP (/usr/bin/python3)
#
# Makes its own build directory (release: -O2 -DNDEBUG, -Dbench=true) if missing, and
# sets it up again (--wipe) when a peer's header was installed after it was configured;
# runs each bench binary and its peers pinned to one CPU (CPython asyncio; uvloop under
# PY_UVLOOP; Asio's micro-benchmarks when libasio-dev is installed; for bench_tasks the
# floor, bench_floor), and prints one markdown table per lesson on stdout; then the
# scaling tables (bench_scale and bench/peers/scale_micro.py; SVG charts), then lesson 5's
# echo benchmark (bench/echo_bench.py: our servers and the peers, a load generator on the
# other CPU). A full run (no --quick, no NAME) also writes all of it, with the machine and
# the versions, to bench/results/YYYY-MM-DD.md and its charts beside it; any other run
# writes nothing into the source tree.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=()
ONLY=()
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=(--quick) ;;
        bench_loop | bench_coro | bench_tasks | bench_sync | scale | echo) ONLY+=("$arg") ;;
        *) echo "usage: bench/run.sh [--quick] [bench_loop|bench_coro|bench_tasks|bench_sync|scale|echo]..." >&2; exit 2 ;;
    esac
done
wanted() { ((${#ONLY[@]} == 0)) || [[ " ${ONLY[*]} " == *" $1 "* ]]; }
BUILD="${BENCH_BUILD_DIR:-build-bench}"
PYTHON="${PYTHON:-python3}"
PYTHON="$("$PYTHON" -c 'import sys; print(sys.executable)')"  # past any pyenv shim
PY_UVLOOP="${PY_UVLOOP:-/usr/bin/python3}"
"$PY_UVLOOP" -c 'import uvloop' 2>/dev/null || PY_UVLOOP=""
# A full run keeps its output: bench/results/YYYY-MM-DD.md, charts beside it.
RESULTS="${BENCH_RESULTS:-}"
if [[ -z "$RESULTS" && ${#QUICK[@]} -eq 0 && ${#ONLY[@]} -eq 0 ]]; then
    RESULTS="bench/results/$(date -u +%Y-%m-%d).md"
fi
[[ "$RESULTS" == "-" ]] && RESULTS=""

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# setup_bench [--wipe]: configure $BUILD optimised, with the bench targets
setup_bench() {
    CXX="${CXX:-g++}" meson setup "$@" "$BUILD" --buildtype=release -Doptimization=2 \
        -Db_ndebug=true -Dbench=true >"$TMP/setup.log" 2>&1 ||
        { cat "$TMP/setup.log" >&2; exit 1; }
}
# The peers bench/meson.build builds only where their header is found: TARGET HEADER.
PEER_HEADERS=("asio_micro asio.hpp" "asio_echo boost/asio.hpp" "uv_echo uv.h")
# has_header HEADER: whether the compiler finds HEADER (what meson's has_header asks)
has_header() {
    printf '#if !__has_include(<%s>)\n#error missing\n#endif\n' "$1" |
        "${CXX:-g++}" -E -x c++ - >/dev/null 2>&1
}
# has_target NAME: whether meson configured bench/NAME in $BUILD (grep reads it all:
# with -q, ninja could die of SIGPIPE, and pipefail would turn a match into a miss)
has_target() {
    ninja -C "$BUILD" -t targets all 2>/dev/null | grep "^bench/$1: " >/dev/null
}
# stale_peers: the peers whose header is installed but that $BUILD has no target for
stale_peers() {
    local peer
    for peer in "${PEER_HEADERS[@]}"; do
        if has_header "${peer#* }" && ! has_target "${peer%% *}"; then echo "${peer%% *}"; fi
    done
}
if [ ! -f "$BUILD/build.ninja" ]; then
    setup_bench
else
    # A meson.build edited since the last run: regenerate build.ninja before asking it.
    ninja -C "$BUILD" build.ninja >"$TMP/regen.log" 2>&1 || { cat "$TMP/regen.log" >&2; exit 1; }
    # A peer installed after $BUILD was configured (./aio bench installs them): meson
    # keeps its has_header answers for the life of a build directory, even across
    # `meson setup --reconfigure`, so only a wipe makes it look again.
    stale="$(stale_peers | tr '\n' ' ')"
    if [[ -n "$stale" ]]; then
        echo "bench/run.sh: $BUILD has no ${stale% } though the header is installed" \
            "now: meson setup --wipe $BUILD" >&2
        setup_bench --wipe
        stale="$(stale_peers | tr '\n' ' ')"
        [[ -z "$stale" ]] || echo "bench/run.sh: WARNING: still no ${stale% } after the" \
            "wipe; see $BUILD/meson-logs/meson-log.txt" >&2
    fi
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
wanted bench_tasks && targets+=(bench/bench_floor)
wanted scale && targets+=(bench/bench_scale bench/bench_tasks)
ASIO=""  # Asio's micro-benchmarks, built only where libasio-dev is installed
if has_target asio_micro; then
    targets+=(bench/asio_micro)
    ASIO="$BUILD/bench/asio_micro"
fi
# Lesson 5's echo servers and load generator; the peers that were configured (a peer
# whose library is missing has no target: echo_bench.py says so in its table).
if wanted echo; then
    for t in echo_streams echo_protocol loadgen epoll_echo uv_echo asio_echo; do
        if has_target "$t"; then targets+=("bench/$t"); fi
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
uv="none (python3-uvloop not installed)"
if [[ -n "$PY_UVLOOP" ]]; then
    uv="$("$PY_UVLOOP" -c 'import platform, uvloop; print("uvloop", uvloop.__version__, "on", platform.python_implementation(), platform.python_version())')"
fi
asio="none (libasio-dev not installed)"
[[ -n "$ASIO" ]] && asio="Asio $(sed -n 's/^#define ASIO_VERSION \([0-9]*\).*/\1/p' /usr/include/asio/version.hpp 2>/dev/null | awk '{printf "%d.%d.%d", $1/100000, $1/100%1000, $1%100}') (standalone, libasio-dev)"
START=$SECONDS

# The header of a results file: where and with what the figures were taken.
machine_header() {
    echo "# \`./aio bench\`, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Command: \`./aio bench\` (= \`bench/run.sh\`), from commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
    echo
    echo "- machine: ${cpu:-unknown CPU}, $(nproc) CPUs, $(uname -sr), load average at the start:" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- compilers: $(g++ --version | head -1); $(clang++ --version 2>/dev/null | head -1 || echo 'no clang++')" \
        "(the figures are GCC's: ${CXX:-g++} -O2 -DNDEBUG)"
    echo "- peers: $py asyncio ($PYTHON); $uv ($PY_UVLOOP); $asio;" \
        "Boost $(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp 2>/dev/null || echo none) (the echo peer)"
    echo "- pinned: ${PIN[*]:-not pinned}. One run: compare the ratios, not the absolute figures."
    echo
}

# One lesson's table: ours, the floor (bench_tasks), CPython asyncio, uvloop, Asio.
lesson_table() {
    local bin=$1 peer=$2 title=$3 floor=() files
    "${PIN[@]}" "$BUILD/bench/$bin" --json "${QUICK[@]}" >"$TMP/$bin.aio.jsonl"
    files=("$TMP/$bin.aio.jsonl")
    if [[ $bin == bench_tasks ]]; then
        "${PIN[@]}" "$BUILD/bench/bench_floor" --json "${QUICK[@]}" >"$TMP/floor.jsonl"
        floor=(--floor "$TMP/floor.jsonl")
    fi
    "${PIN[@]}" "$PYTHON" "bench/peers/$peer" "${QUICK[@]}" >"$TMP/$bin.cpython.jsonl"
    files+=("$TMP/$bin.cpython.jsonl")
    if [[ -n "$PY_UVLOOP" ]]; then
        PEER_LOOP=uvloop "${PIN[@]}" "$PY_UVLOOP" "bench/peers/$peer" "${QUICK[@]}" >"$TMP/$bin.uvloop.jsonl"
        files+=("$TMP/$bin.uvloop.jsonl")
    fi
    if [[ -n "$ASIO" ]]; then
        "${PIN[@]}" "$PYTHON" bench/peers/asio_peer.py "$ASIO" "$bin" "${QUICK[@]}" >"$TMP/$bin.asio.jsonl"
        files+=("$TMP/$bin.asio.jsonl")
    fi
    build="$("$PYTHON" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["build"])' \
        "$TMP/$bin.aio.jsonl")"
    echo "## $title ($bin vs bench/peers/$peer)"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'); ${cpu:-unknown CPU}, $(nproc) CPUs;" \
        "ours: $build; peers: $py asyncio; $uv; $asio; ${PIN[*]:-not pinned}${QUICK:+; QUICK: figures meaningless}"
    echo
    "$PYTHON" bench/report.py "${floor[@]}" "${files[@]}"
    echo
}

# Scaling: bench_scale, bench_tasks' memory at each size, and the peers'; tables and charts.
scale_tables() {
    local sizes=(1000 10000 100000 1000000) svg=("--svg-dir" "$TMP/svg")
    ((${#QUICK[@]})) && sizes=(1000 10000)
    [[ -n "$RESULTS" ]] && svg=(--svg-dir "$(dirname "$RESULTS")" --svg-prefix "$(basename "$RESULTS" .md)")
    "${PIN[@]}" "$BUILD/bench/bench_scale" "${QUICK[@]}" >"$TMP/scale.aio.jsonl"
    for n in "${sizes[@]}"; do
        "${PIN[@]}" "$BUILD/bench/bench_tasks" --json --ops "$n" --reps 1 sleep_many |
            "$PYTHON" bench/scale_report.py --memory-point >>"$TMP/scale.aio.jsonl"
    done
    "${PIN[@]}" "$PYTHON" bench/peers/scale_micro.py "${QUICK[@]}" >"$TMP/scale.cpython.jsonl"
    local files=("$TMP/scale.aio.jsonl" "$TMP/scale.cpython.jsonl")
    if [[ -n "$PY_UVLOOP" ]]; then
        PEER_LOOP=uvloop "${PIN[@]}" "$PY_UVLOOP" bench/peers/scale_micro.py "${QUICK[@]}" >"$TMP/scale.uvloop.jsonl"
        files+=("$TMP/scale.uvloop.jsonl")
    fi
    if [[ -n "$ASIO" ]]; then
        "${PIN[@]}" "$PYTHON" bench/peers/asio_peer.py "$ASIO" --scale "${QUICK[@]}" >"$TMP/scale.asio.jsonl"
        files+=("$TMP/scale.asio.jsonl")
    fi
    echo "## Scaling: 10^3 to 10^6 tasks and timers (bench_scale vs bench/peers/scale_micro.py)"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'); ours: bench_scale, memory from \`bench_tasks --ops N --reps 1 sleep_many\`;" \
        "peers: $py asyncio; $uv; $asio; ${PIN[*]:-not pinned}${QUICK:+; QUICK: figures meaningless}"
    echo
    "$PYTHON" bench/scale_report.py "${svg[@]}" "${files[@]}"
}

# After each part of a full run: how long it took (the whole must stay under 10 minutes).
PART_START=$SECONDS
took() {
    [[ -n "$RESULTS" ]] && echo "(this part took $((SECONDS - PART_START)) s)" && echo
    PART_START=$SECONDS
    return 0
}

all_tables() {
[[ -n "$RESULTS" ]] && machine_header
for b in "${BENCHES[@]}"; do
    read -r bin peer title <<<"$b"
    wanted "$bin" || continue
    lesson_table "$bin" "$peer" "$title"
    took
done
wanted scale && scale_tables && took

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
    took
fi
[[ -n "$RESULTS" ]] && echo "Took $(((SECONDS - START) / 60)) min $(((SECONDS - START) % 60)) s."
return 0
}

if [[ -n "$RESULTS" ]]; then
    mkdir -p "$(dirname "$RESULTS")"
    all_tables | tee "$TMP/results.md"
    cp "$TMP/results.md" "$RESULTS"
    echo "bench/run.sh: wrote $RESULTS" >&2
else
    all_tables
fi
