// stress_threads.cpp - the thread part of the project's stress suite (issue 9): rounds
// of seeded scenarios that hammer every path where another thread touches a loop.
//
//   stress_threads [--seconds S] [--rounds N] [--seed N] [--scenario NAME]
//
// Round r runs with seed N + r (default N: from the clock, printed) the scenario that
// seed picks, or NAME; it stops after N rounds or S seconds, whichever comes first
// (default: 5 seconds). The last line is
//   stress threads: N rounds, N operations, N cancellations, N checks, N failures
// and the exit status is non-zero on any failure, each of which prints the command
// that replays its round. Meant to run under ThreadSanitizer and AddressSanitizer too:
// the checks catch wrong outcomes, the sanitizers races and use-after-free.
//
// A log line the library prints is a failure unless it is one that closing a loop over
// pending work is expected to print (a task destroyed pending, a coroutine never
// awaited).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>

#include "lesson01_loop/log.hpp"
#include "tests/stress/threads/hammer.hpp"

namespace hammer {

namespace {

struct Scenario {
    const char* name;
    void (*run)(const Round&);
    bool closes_over_work;  // may close a loop over pending tasks
};
constexpr Scenario scenarios[] = {
    {"call_soon_threadsafe_fifo", call_soon_threadsafe_fifo, false},
    {"handle_cancel", handle_cancel_racing, false},
    {"loop_closing_over_callbacks", loop_closing_over_callbacks, true},
    {"coroutines_threadsafe", coroutines_threadsafe, false},
    {"coroutines_threadsafe_closing", coroutines_threadsafe_closing, true},
    {"executor_cancelled_awaiters", executor_cancelled_awaiters, false},
    {"loops_created_and_closed", loops_created_and_closed, true},
    // Only with --scenario: outside the library's thread contract (see its comment).
    {"handle_cancel_direct", handle_cancel_direct, false},
};
constexpr int scenario_count = sizeof(scenarios) / sizeof(scenarios[0]) - 1;  // the mix

const char* program = "stress_threads";
std::mutex report_mutex;  // one failure report at a time
int reports_left = 20;    // then only counted

struct Options {
    double seconds = -1;
    long long rounds = -1;
    std::uint64_t seed = 0;
    bool seeded = false;
    const Scenario* only = nullptr;
};

// What closing a loop over pending work prints, as asyncio would: a task destroyed
// pending, a coroutine never awaited, and a failed task whose done callback (the one
// that would have read its exception) was dropped unrun.
bool expected_log(std::string_view message, bool closing) {
    auto has = [&](const char* text) { return message.find(text) != std::string_view::npos; };
    return closing && (has("Task was destroyed but it is pending") || has("was never awaited") ||
                       has("Task exception was never retrieved"));
}

int usage() {
    std::fprintf(stderr, "usage: %s [--seconds S] [--rounds N] [--seed N] [--scenario NAME]\n",
                 program);
    std::fprintf(stderr, "scenarios:");
    for (const Scenario& s : scenarios) std::fprintf(stderr, " %s", s.name);
    std::fprintf(stderr, "\n");
    return 2;
}

const Scenario* find_scenario(std::string_view name) {
    for (const Scenario& s : scenarios)
        if (name == s.name) return &s;
    return nullptr;
}

bool parse(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (i + 1 >= argc) return false;
        const char* value = argv[++i];
        if (arg == "--seconds") {
            o.seconds = std::atof(value);
        } else if (arg == "--rounds") {
            o.rounds = std::atoll(value);
        } else if (arg == "--seed") {
            o.seed = std::strtoull(value, nullptr, 10);
            o.seeded = true;
        } else if (arg == "--scenario") {
            o.only = find_scenario(value);
            if (!o.only) return false;
        } else {
            return false;
        }
    }
    if (o.seconds < 0 && o.rounds < 0) o.seconds = 5;
    if (!o.seeded)
        o.seed = static_cast<std::uint64_t>(
                     std::chrono::system_clock::now().time_since_epoch().count()) %
                 1000000007;
    return true;
}

}  // namespace

Stats& stats() {
    static Stats s;
    return s;
}

bool check(const Round& round, bool ok, const std::string& what) {
    stats().checks.fetch_add(1);
    if (ok) return true;
    stats().failures.fetch_add(1);
    std::lock_guard lock(report_mutex);
    if (reports_left > 0) {
        --reports_left;
        std::fprintf(
            stderr,
            "FAILED (%s, seed %llu): %s\n  replay: %s --seed %llu --rounds 1 --scenario %s\n",
            round.scenario, static_cast<unsigned long long>(round.seed), what.c_str(), program,
            static_cast<unsigned long long>(round.seed), round.scenario);
    }
    return false;
}

}  // namespace hammer

int main(int argc, char** argv) {
    using namespace hammer;
    program = argv[0];
    Options o;
    if (!parse(argc, argv, o)) return usage();
    std::printf("stress threads: seed %llu\n", static_cast<unsigned long long>(o.seed));
    std::fflush(stdout);
    Round current{0, "none"};  // what the log sink blames
    bool closing = false;
    aio::set_log_sink([&current, &closing](aio::LogLevel level, std::string_view message) {
        if (!expected_log(message, closing))
            check(current, false,
                  std::string("unexpected log: ") + aio::to_string(level) + ": " +
                      std::string(message));
    });
    auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    for (long long r = 0; o.rounds < 0 || r < o.rounds; ++r) {
        if (o.seconds >= 0 && elapsed() >= o.seconds) break;
        std::uint64_t seed = o.seed + static_cast<std::uint64_t>(r);
        const Scenario& s = o.only ? *o.only : scenarios[seed % scenario_count];
        current = Round{seed, s.name};
        closing = s.closes_over_work;
        Probe::alive.store(0);  // what an earlier round leaked is reported once, there
        s.run(current);
        stats().rounds.fetch_add(1);
    }
    aio::set_log_sink(nullptr);
    Stats& st = stats();
    std::printf("stress threads: %.1f s\n", elapsed());
    std::printf(
        "stress threads: %llu rounds, %llu operations, %llu cancellations, %llu checks, %llu "
        "failures\n",
        static_cast<unsigned long long>(st.rounds.load()),
        static_cast<unsigned long long>(st.operations.load()),
        static_cast<unsigned long long>(st.cancellations.load()),
        static_cast<unsigned long long>(st.checks.load()),
        static_cast<unsigned long long>(st.failures.load()));
    return st.failures.load() == 0 ? 0 : 1;
}
