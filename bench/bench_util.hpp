// bench_util.hpp - what every bench_*.cpp shares: a clock, an allocation counter,
// a median, and the two ways to print results (a markdown table for people, JSON
// lines for bench/report.py, which puts ours beside the peers').
//
// A benchmark is a body that performs `ops` operations. measure() runs it once to
// warm up (pools and queues grow to their steady size), then `reps` more times,
// each timed and with the allocations made inside it counted; it reports the median
// ns per op and the allocations per op over all timed repetitions.
//
// The allocation counter is a replacement global operator new/delete, defined in
// bench_util.cpp: link that file into every bench executable (bench/meson.build).
//
// run_cases() is every bench's main(): the command line, the case table, the output.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "lesson01_loop/event_loop.hpp"

namespace aio::bench {

// Totals since the program started, of every global operator new/delete overload.
struct AllocCount {
    std::uint64_t news = 0;
    std::uint64_t deletes = 0;
    std::uint64_t bytes = 0;
};
AllocCount alloc_count() noexcept;

inline std::uint64_t now_ns() noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

// Keeps the compiler from deleting work whose result is otherwise unused.
template <class T>
inline void keep(T& value) noexcept {
    asm volatile("" : : "r,m"(value) : "memory");
}

struct Result {
    std::string name;       // the row's key: the same name in a peer's JSON joins the row
    std::string what;       // one line: what one op is
    std::uint64_t ops = 0;  // per repetition
    int reps = 0;
    double ns_median = 0, ns_min = 0, ns_max = 0;  // per op
    double allocs_per_op = 0;                      // news / op, over all timed reps
    std::uint64_t allocs = 0, frees = 0;           // totals over all timed reps
    double budget_ns = 0;                          // docs/design.md's budget, 0 if none
    std::vector<double> samples;                   // ns/op of each timed repetition
};

double median(std::vector<double> values);

template <class Body>
Result measure(std::string name, std::string what, std::uint64_t ops, int reps, Body&& body,
               double budget_ns = 0) {
    body();  // warm-up: grows pools, queues, heaps; not counted
    std::vector<double> ns;
    std::uint64_t news = 0, deletes = 0;
    for (int r = 0; r < reps; ++r) {
        AllocCount a0 = alloc_count();
        std::uint64_t t0 = now_ns();
        body();
        std::uint64_t t1 = now_ns();
        AllocCount a1 = alloc_count();
        news += a1.news - a0.news;
        deletes += a1.deletes - a0.deletes;
        ns.push_back(static_cast<double>(t1 - t0) / static_cast<double>(ops));
    }
    Result r;
    r.name = std::move(name);
    r.what = std::move(what);
    r.ops = ops;
    r.reps = reps;
    r.ns_median = median(ns);
    r.ns_min = *std::min_element(ns.begin(), ns.end());
    r.ns_max = *std::max_element(ns.begin(), ns.end());
    r.allocs = news;
    r.frees = deletes;
    r.allocs_per_op = static_cast<double>(news) / static_cast<double>(ops * reps);
    r.budget_ns = budget_ns;
    r.samples = std::move(ns);
    return r;
}

// A loop for one case, debug off: AIO_DEBUG=1 in the environment would time every callback.
std::unique_ptr<EventLoop> make_loop(
    std::unique_ptr<Clock> clock = std::make_unique<MonotonicClock>());

// The name run_cases() was given ("bench_loop"), for messages.
const char* program_name();

// Exits with "<program>: what" unless ok.
void check(bool ok, const char* what);

// Wraps one repetition's body to exit if blocks_in_use() (the frame pool's count, passed
// in because lesson 1's bench has no pool) is higher after it than before: a leak.
template <class Body, class Count>
auto pool_checked(Body body, const char* name, Count blocks_in_use) {
    return [body, name, blocks_in_use]() mutable {
        std::size_t before = blocks_in_use();
        body();
        if (blocks_in_use() > before) {
            std::fprintf(stderr, "%s: %s: the frame pool grew by %zu blocks\n", program_name(),
                         name, blocks_in_use() - before);
            std::exit(1);
        }
    };
}

// 64-bit LCG (Knuth's MMIX constants); the peers (peer_util.lcg) draw the same numbers.
inline std::uint64_t lcg_next(std::uint64_t& state) noexcept {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state;
}

// ---- run_cases: the command line and the output every bench shares -------------------
//
// usage: PROGRAM [--json] [--samples] [--quick] [SIZE_FLAG N] [--reps N] [CASE...]
// Any other flag, or a bad number, prints that line and exits 2.

// What a case is given.
struct Config {
    // SIZE_FLAG's value: batches of 1,000 ops (--batches) or ops (--ops); its unit and
    // what 0 means are the bench's own.
    std::uint64_t size = 0;
    int reps = 15;       // timed repetitions after the warm-up
    bool quick = false;  // --quick: tiny sizes, a smoke test
};

// A bench's command line: its size option and defaults.
struct Options {
    const char* size_flag = "--ops";  // or "--batches"
    std::uint64_t size = 0;           // default SIZE_FLAG value
    std::uint64_t min_size = 1;       // smallest SIZE_FLAG N accepted
    std::uint64_t quick_size = 0;     // what --quick sets; 0 leaves the size alone
    int reps = 15;
    int quick_reps = 3;
};

// A case's figures: measure()'s Result and what only some benches add.
struct Outcome {
    Outcome(Result result) : r(std::move(result)) {}  // implicit: a plain case returns a Result
    Result r;
    std::optional<std::size_t> pool_blocks = {};  // frame-pool blocks one op holds
    std::string memory_json = {};                 // JSON fields (bench_tasks' sleep_many)
};

struct Case {
    const char* name;
    Outcome (*run)(const Config&);
    // Runs before any case's run() when this case is chosen: for a measurement that
    // needs a process in which no case has run yet.
    void (*prepare)(const Config&) = nullptr;
};

// Parses the command line, runs the chosen cases (all if none named) in table order,
// and prints them: a markdown table, or with --json one JSON line per case for
// bench/report.py (then one more per case with pool_blocks or memory_json). Returns
// main()'s exit status.
int run_cases(int argc, char** argv, const char* program, std::span<const Case> cases,
              const Options& options);

// One JSON object per line (the format bench/report.py and bench/peers/*.py share).
void print_json(const std::vector<Result>& results, const char* impl);
// A markdown table of our own figures, for running a bench binary by hand.
void print_table(const std::vector<Result>& results);
// Every repetition's ns/op, on stderr: to see the noise behind a median.
void print_samples(const std::vector<Result>& results);
// Warns on stderr when this binary was built without optimisation or with asserts.
void warn_if_unoptimised();

}  // namespace aio::bench
