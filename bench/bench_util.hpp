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
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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
    double budget_ns = 0;                          // DESIGN.md's budget, 0 if none
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

// One JSON object per line (the format bench/report.py and bench/peers/*.py share).
void print_json(const std::vector<Result>& results, const char* impl);
// A markdown table of our own figures, for running a bench binary by hand.
void print_table(const std::vector<Result>& results);
// Every repetition's ns/op, on stderr: to see the noise behind a median.
void print_samples(const std::vector<Result>& results);
// Warns on stderr when this binary was built without optimisation or with asserts.
void warn_if_unoptimised();

}  // namespace aio::bench
