// bench_util.cpp - see bench_util.hpp. Holds the counting global operator new/delete,
// so link it into every bench executable and into nothing else.
#include "bench/bench_util.hpp"

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string_view>

namespace {

std::atomic<std::uint64_t> g_news{0}, g_deletes{0}, g_bytes{0};

void* counted_alloc(std::size_t size, std::size_t align) noexcept {
    g_news.fetch_add(1, std::memory_order_relaxed);
    g_bytes.fetch_add(size, std::memory_order_relaxed);
    if (size == 0) size = 1;  // new(0) must still return a unique pointer
    if (align <= alignof(std::max_align_t)) return std::malloc(size);
    return std::aligned_alloc(align, (size + align - 1) / align * align);
}

void* counted_alloc_or_throw(std::size_t size, std::size_t align) {
    void* p = counted_alloc(size, align);
    if (!p) throw std::bad_alloc();
    return p;
}

void counted_free(void* p) noexcept {
    if (!p) return;
    g_deletes.fetch_add(1, std::memory_order_relaxed);
    std::free(p);
}

constexpr std::size_t plain = alignof(std::max_align_t);
std::size_t as_size(std::align_val_t a) { return static_cast<std::size_t>(a); }

}  // namespace

// ---- the replacement operators: every overload a program may call ----------------

void* operator new(std::size_t n) { return counted_alloc_or_throw(n, plain); }
void* operator new[](std::size_t n) { return counted_alloc_or_throw(n, plain); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return counted_alloc(n, plain);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return counted_alloc(n, plain);
}
void* operator new(std::size_t n, std::align_val_t a) {
    return counted_alloc_or_throw(n, as_size(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return counted_alloc_or_throw(n, as_size(a));
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_alloc(n, as_size(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_alloc(n, as_size(a));
}

void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    counted_free(p);
}

namespace aio::bench {

namespace {
const char* g_program = "bench";
}  // namespace

const char* program_name() { return g_program; }

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "%s: %s\n", g_program, what);
    std::exit(1);
}

std::unique_ptr<EventLoop> make_loop(std::unique_ptr<Clock> clock) {
    auto loop = std::make_unique<EventLoop>(nullptr, std::move(clock));
    loop->set_debug(false);
    return loop;
}

AllocCount alloc_count() noexcept {
    return {g_news.load(std::memory_order_relaxed), g_deletes.load(std::memory_order_relaxed),
            g_bytes.load(std::memory_order_relaxed)};
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    std::size_t mid = v.size() / 2;
    return v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

namespace {
// Our names and descriptions hold no control characters; quotes and backslashes
// are all that need escaping.
std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + '"';
}
}  // namespace

// How this binary was built, e.g. "g++ 12.2.0 optimised NDEBUG".
const char* build_description() {
#if defined(__clang__)
#define AIO_BENCH_STR2(x) #x
#define AIO_BENCH_STR(x) AIO_BENCH_STR2(x)
#define AIO_BENCH_COMPILER                                       \
    "clang++ " AIO_BENCH_STR(__clang_major__) "." AIO_BENCH_STR( \
        __clang_minor__) "." AIO_BENCH_STR(__clang_patchlevel__)
#elif defined(__GNUC__)
#define AIO_BENCH_COMPILER "g++ " __VERSION__
#else
#define AIO_BENCH_COMPILER "unknown compiler"
#endif
#if defined(__OPTIMIZE__)
#define AIO_BENCH_OPT " optimised"
#else
#define AIO_BENCH_OPT " UNOPTIMISED"
#endif
#if defined(NDEBUG)
#define AIO_BENCH_NDEBUG " NDEBUG"
#else
#define AIO_BENCH_NDEBUG " asserts-on"
#endif
    return AIO_BENCH_COMPILER AIO_BENCH_OPT AIO_BENCH_NDEBUG;
}

void print_json(const std::vector<Result>& results, const char* impl) {
    for (const Result& r : results) {
        std::printf(
            "{\"impl\": %s, \"build\": %s, \"name\": %s, \"what\": %s, \"ops\": %llu, \"reps\": "
            "%d, "
            "\"ns_per_op\": %.2f, \"ns_min\": %.2f, \"ns_max\": %.2f, \"allocs_per_op\": %.6f, "
            "\"allocs\": %llu, \"frees\": %llu, \"budget_ns\": %.0f}\n",
            json_string(impl).c_str(), json_string(build_description()).c_str(),
            json_string(r.name).c_str(), json_string(r.what).c_str(),
            static_cast<unsigned long long>(r.ops), r.reps, r.ns_median, r.ns_min, r.ns_max,
            r.allocs_per_op, static_cast<unsigned long long>(r.allocs),
            static_cast<unsigned long long>(r.frees), r.budget_ns);
    }
    std::fflush(stdout);
}

void print_table(const std::vector<Result>& results) {
    std::printf("| case | ns/op (median) | min-max | allocs/op | budget |\n");
    std::printf("|---|---:|---:|---:|---|\n");
    for (const Result& r : results) {
        char budget[48] = "-";
        if (r.budget_ns > 0)
            std::snprintf(budget, sizeof budget, "<= %.0f ns %s", r.budget_ns,
                          r.ns_median <= r.budget_ns ? "pass" : "MISS");
        std::printf("| %s | %.1f | %.1f-%.1f | %.4f | %s |\n", r.name.c_str(), r.ns_median,
                    r.ns_min, r.ns_max, r.allocs_per_op, budget);
    }
    std::fflush(stdout);
}

void print_samples(const std::vector<Result>& results) {
    for (const Result& r : results) {
        std::fprintf(stderr, "%s:", r.name.c_str());
        for (double ns : r.samples) std::fprintf(stderr, " %.1f", ns);
        std::fprintf(stderr, "\n");
    }
}

void warn_if_unoptimised() {
#if !defined(__OPTIMIZE__)
    std::fprintf(stderr,
                 "warning: this benchmark was built without optimisation; "
                 "use bench/run.sh (a release build)\n");
#endif
#if !defined(NDEBUG)
    std::fprintf(stderr, "warning: this benchmark was built with assertions on (no NDEBUG)\n");
#endif
}

// ---- run_cases ---------------------------------------------------------------------

namespace {

struct Args {
    bool json = false, samples = false;
    Config cfg;
    std::vector<std::string> only;  // case names; empty: all
};

int usage(const char* argv0, const Options& options) {
    std::fprintf(stderr, "usage: %s [--json] [--samples] [--quick] [%s N] [--reps N] [CASE...]\n",
                 argv0, options.size_flag);
    return 2;
}

// 0, or main()'s exit status for a wrong command line (after saying why).
int parse(int argc, char** argv, std::span<const Case> cases, const Options& options, Args& a) {
    a.cfg.size = options.size;
    a.cfg.reps = options.reps;
    bool size_given = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        bool has_value = i + 1 < argc;
        if (arg == "--json") {
            a.json = true;
        } else if (arg == "--samples") {
            a.samples = true;
        } else if (arg == "--quick") {
            a.cfg.quick = true;
            a.cfg.reps = options.quick_reps;
            if (options.quick_size) a.cfg.size = options.quick_size;
        } else if (arg == options.size_flag && has_value) {
            a.cfg.size = std::strtoull(argv[++i], nullptr, 10);
            size_given = true;
        } else if (arg == "--reps" && has_value) {
            a.cfg.reps = std::atoi(argv[++i]);
        } else if (arg.starts_with('-')) {
            return usage(argv[0], options);
        } else {
            a.only.emplace_back(arg);
        }
    }
    if ((size_given && a.cfg.size < options.min_size) || a.cfg.reps <= 0)
        return usage(argv[0], options);
    for (const std::string& name : a.only) {
        bool known = false;
        for (const Case& c : cases) known = known || name == c.name;
        if (!known) {
            std::fprintf(stderr, "%s: no case named '%s'\n", g_program, name.c_str());
            return 2;
        }
    }
    return 0;
}

bool wanted(const Args& a, const Case& c) {
    if (a.only.empty()) return true;
    for (const std::string& name : a.only)
        if (name == c.name) return true;
    return false;
}

void print(const std::vector<Outcome>& outcomes, bool json, bool samples) {
    std::vector<Result> results;
    for (const Outcome& o : outcomes) results.push_back(o.r);
    if (samples) print_samples(results);
    if (json) {
        print_json(results, "aio");
        // A second line per case adds fields to the first (bench/report.py merges lines
        // without ns_per_op into the row of the same name).
        for (const Outcome& o : outcomes) {
            std::string fields;
            if (o.pool_blocks)
                fields += ", \"pool_blocks_per_op\": " + std::to_string(*o.pool_blocks);
            if (!o.memory_json.empty()) fields += ", " + o.memory_json;
            if (!fields.empty())
                std::printf("{\"impl\": \"aio\", \"name\": %s%s}\n", json_string(o.r.name).c_str(),
                            fields.c_str());
        }
        return;
    }
    print_table(results);
    bool any_pool = false;
    for (const Outcome& o : outcomes) any_pool = any_pool || o.pool_blocks;
    if (any_pool) {
        std::printf("\npool blocks held by one op (frame pool, not seen by allocs/op):\n");
        for (const Outcome& o : outcomes)
            if (o.pool_blocks) std::printf("  %s: %zu\n", o.r.name.c_str(), *o.pool_blocks);
    }
    for (const Outcome& o : outcomes)
        if (!o.memory_json.empty())
            std::printf("\n%s memory: {%s}\n", o.r.name.c_str(), o.memory_json.c_str());
}

}  // namespace

int run_cases(int argc, char** argv, const char* program, std::span<const Case> cases,
              const Options& options) {
    g_program = program;
    Args a;
    if (int status = parse(argc, argv, cases, options, a)) return status;
    warn_if_unoptimised();
    for (const Case& c : cases)
        if (c.prepare && wanted(a, c)) c.prepare(a.cfg);
    std::vector<Outcome> outcomes;
    for (const Case& c : cases)
        if (wanted(a, c)) outcomes.push_back(c.run(a.cfg));
    print(outcomes, a.json, a.samples);
    return 0;
}

}  // namespace aio::bench
