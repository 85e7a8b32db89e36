// main.cpp - stress_fuzz: runs seeded random programs (ops.hpp) and checks them
// (invariants.hpp). Part of the project's own stress suite (tests/stress/meson.build).
//
//   stress_fuzz --seed N [--close] [--verbose]   replay one seed, print its trace
//   stress_fuzz --seeds A-B [--mode M]            seeds A..B; M: normal, close, both
//   stress_fuzz --seconds S [--mode M]            random seeds for S seconds
//
// One run of a seed:
//   1. a World from the seed, a loop on a VirtualClock, the root task;
//   2. the loop turned one iteration at a time (run_once); after each iteration that
//      leaves nothing ready, check_idle; a run that outlives its bounds fails;
//   3. normal mode: the root finishes, check_end. Close mode: at a random moment
//      the loop is closed over whatever is pending, and every task the program still
//      references is cancelled afterwards (it must not crash; asyncio raises
//      RuntimeError for work on a closed loop);
//   4. after the loop is gone, the frame pool must be back at its baseline, and the
//      log must hold only what the mode allows (check_logs).
// The last line is "stress fuzz: N seeds, N operations, N cancellations, N checks,
// N failures" (a seed run in both modes counts twice); the exit status is 1 if any seed
// failed, and each failure prints the one command that replays it, also after a crash.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "lesson01_loop/clocks.hpp"
#include "lesson01_loop/log.hpp"
#include "lesson02_coroutines/frame_pool.hpp"
#include "tests/stress/fuzz/invariants.hpp"
#include "tests/stress/fuzz/ops.hpp"

namespace fuzz {
namespace {

constexpr std::uint64_t max_iterations = 100000;
constexpr std::size_t trace_tail = 40;  // trace lines shown for a failure in a range

enum class Mode { normal, close, both };

struct Options {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    double seconds = 0;  // > 0: random seeds for that long
    Mode mode = Mode::both;
    bool single = false;  // --seed: print the whole trace
    bool verbose = false;
    std::string argv0;
};

// Captures the library's log for the life of one seed.
class LogCapture {
public:
    explicit LogCapture(World& w)
        : previous_(aio::set_log_sink([&w](aio::LogLevel level, std::string_view message) {
              w.logs.push_back(std::string(aio::to_string(level)) + ": " + std::string(message));
          })) {}
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;
    ~LogCapture() { aio::set_log_sink(std::move(previous_)); }

private:
    aio::LogSink previous_;
};

std::string describe_shape(const Shape& s) {
    return "program: " + std::to_string(s.initial_tasks) + " actors, at most " +
           std::to_string(s.max_tasks) + " tasks, " + std::to_string(s.ops_per_task) +
           " ops each, ends at t=" + std::to_string(s.program_end) +
           (s.close_mode ? ", close at t=" + std::to_string(s.close_time) + " +" +
                               std::to_string(s.close_extra) + " iterations"
                         : "");
}

// Step 2: turns the loop until the root is done (or the moment to close, or a failure).
void drive(World& w, aio::EventLoop& loop, const aio::Task<void>& root_task) {
    int extra = w.shape.close_extra;
    while (!root_task.done() || loop.ready_count() > 0) {
        if (w.shape.close_mode && loop.time() >= w.shape.close_time && extra-- == 0) return;
        if (loop.ready_count() == 0 && loop.timer_count() == 0) {
            w.fail("deadlock: nothing ready, no timer, and the root is pending");
            return;
        }
        if (loop.iterations() >= max_iterations) {
            w.fail("the program did not finish within " + std::to_string(max_iterations) +
                   " iterations");
            return;
        }
        loop.run_once();
        if (loop.ready_count() == 0) check_idle(w);
        if (!w.shape.close_mode && !w.logs.empty()) check_logs(w);
        if (w.failed()) return;
    }
}

// Close mode: what close() is about to destroy, for the trace.
void note_pending(World& w) {
    for (aio::TaskBase* t : aio::all_tasks(w.loop)) w.note(0, "  pending: " + t->repr());
}

// Step 3, close mode: work on a closed loop may be refused, never crash.
void cancel_after_close(World& w) {
    w.note(0, "loop closed: cancels the " + std::to_string(w.tasks.size()) + " tasks it holds");
    for (aio::Task<void>& t : w.tasks) {
        ++w.counters.cancellations;
        try {
            t.cancel("after close");
        } catch (const aio::RuntimeError&) {
        }
    }
}

// Reads what the done tasks and futures hold, so that dropping them logs nothing.
void retrieve_all(World& w) {
    for (aio::Task<void>& t : w.tasks)
        if (t.done() && !t.cancelled()) (void)t.exception();
    for (aio::Future<int>& f : w.futures)
        if (f.done() && !f.cancelled()) (void)f.exception();
}

// A crash (a sanitizer report ends in abort()) cannot print a summary; this says which
// seed it was. Written before each seed, read only by the signal handler.
char crash_note[512];

void on_crash(int signal) {
    ssize_t written = write(STDOUT_FILENO, crash_note, std::strlen(crash_note));
    (void)written;
    std::signal(signal, SIG_DFL);
    std::raise(signal);
}

// On its own stack, so that a stack overflow can still print. A handler the sanitizer
// installed first (AddressSanitizer's SIGSEGV report) is left in place: its report
// ends in abort(), which then prints the note.
void note_exit() {
    std::snprintf(crash_note, sizeof crash_note,
                  "  (a report at exit, after the summary: every seed ran; LeakSanitizer?)\n");
}

void install_crash_note() {
    static char alt_stack[1 << 16];
    stack_t ss{};
    ss.ss_sp = alt_stack;
    ss.ss_size = sizeof alt_stack;
    sigaltstack(&ss, nullptr);
    for (int signal : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) {
        struct sigaction old {};
        sigaction(signal, nullptr, &old);
        if (old.sa_handler != SIG_DFL) continue;
        struct sigaction act {};
        act.sa_handler = on_crash;
        act.sa_flags = SA_ONSTACK;
        sigaction(signal, &act, nullptr);
    }
}

// One seed in one mode; true if it passed.
bool run_seed(std::uint64_t seed, bool close_mode, const Options& opt, Counters& totals) {
    std::snprintf(crash_note, sizeof crash_note,
                  "\nstress fuzz: CRASHED in seed %llu (%s mode)\n  replay: %s --seed %llu%s\n",
                  static_cast<unsigned long long>(seed), close_mode ? "close" : "normal",
                  opt.argv0.c_str(), static_cast<unsigned long long>(seed),
                  close_mode ? " --close" : "");
    std::size_t baseline = aio::detail::pool_blocks_in_use();
    World w(seed, close_mode);
    w.echo = opt.single || opt.verbose;
    {
        LogCapture capture(w);
        {
            aio::EventLoop loop(nullptr, std::make_unique<aio::VirtualClock>());
            w.loop = &loop;
            w.note(0, describe_shape(w.shape));
            aio::Task<void> root_task = aio::create_task(loop, root(w), "T0");
            w.adopt(root_task);
            drive(w, loop, root_task);
            if (!close_mode && !w.failed()) check_end(w);
            w.note(0, "closes the loop");
            if (close_mode) note_pending(w);
            w.logs_at_close = w.logs.size();
            loop.close();
            // Judge what close() logged now: a crash in what follows would lose it.
            check_logs(w);
            if (close_mode && !w.failed()) cancel_after_close(w);
            retrieve_all(w);
            w.release_refs();
            w.loop = nullptr;
        }
        std::size_t in_use = aio::detail::pool_blocks_in_use();
        w.check(in_use == baseline, "frame pool: " + std::to_string(in_use) +
                                        " blocks in use after the loop closed, " +
                                        std::to_string(baseline) + " before");
    }
    check_logs(w);
    totals.seeds += 1;
    totals.operations += w.counters.operations;
    totals.cancellations += w.counters.cancellations;
    totals.checks += w.counters.checks;
    bool failed = w.failed() || opt.verbose;
    if (failed) {
        std::printf("stress fuzz: %s seed %llu (%s mode)\n", w.failed() ? "FAILED" : "trace of",
                    static_cast<unsigned long long>(seed), close_mode ? "close" : "normal");
        for (const std::string& f : w.failures) std::printf("  failure: %s\n", f.c_str());
        std::size_t from = w.echo                         ? w.trace.size()  // shown already
                           : w.trace.size() <= trace_tail ? 0
                                                          : w.trace.size() - trace_tail;
        if (from && !w.echo) std::printf("  ... (%zu trace lines before these)\n", from);
        for (std::size_t i = from; i < w.trace.size(); ++i)
            std::printf("  %s\n", w.trace[i].c_str());
    }
    if (w.failed()) {
        totals.failures += 1;
        std::printf("  replay: %s --seed %llu%s\n", opt.argv0.c_str(),
                    static_cast<unsigned long long>(seed), close_mode ? " --close" : "");
    }
    std::fflush(stdout);
    return !w.failed();
}

void run_modes(std::uint64_t seed, const Options& opt, Counters& totals) {
    if (opt.mode != Mode::close) run_seed(seed, false, opt, totals);
    if (opt.mode != Mode::normal) run_seed(seed, true, opt, totals);
}

// ---- command line ----------------------------------------------------------------------

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "stress_fuzz: %s\n"
                 "usage: stress_fuzz --seed N [--close] [--verbose]\n"
                 "       stress_fuzz --seeds A-B [--mode normal|close|both]\n"
                 "       stress_fuzz --seconds S [--mode normal|close|both]\n",
                 why);
    std::exit(2);
}

std::uint64_t number(const char* text) {
    char* end = nullptr;
    unsigned long long n = std::strtoull(text, &end, 10);
    if (end == text || *end) usage("not a number");
    return n;
}

Mode parse_mode(const char* text) {
    if (!std::strcmp(text, "normal")) return Mode::normal;
    if (!std::strcmp(text, "close")) return Mode::close;
    if (!std::strcmp(text, "both")) return Mode::both;
    usage("--mode is normal, close or both");
}

void parse_range(const char* text, Options& opt) {
    const char* dash = std::strchr(text, '-');
    if (!dash) usage("--seeds takes A-B");
    opt.first = number(std::string(text, dash).c_str());
    opt.last = number(dash + 1);
    if (opt.last < opt.first) usage("--seeds A-B needs A <= B");
}

Options parse(int argc, char** argv) {
    Options opt;
    opt.argv0 = argv[0];
    bool chosen = false, close = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        bool has_value = i + 1 < argc;
        if (arg == "--seed" && has_value) {
            opt.first = opt.last = number(argv[++i]);
            opt.single = chosen = true;
        } else if (arg == "--seeds" && has_value) {
            parse_range(argv[++i], opt);
            chosen = true;
        } else if (arg == "--seconds" && has_value) {
            opt.seconds = std::strtod(argv[++i], nullptr);
            if (!(opt.seconds > 0)) usage("--seconds takes a positive number");
            chosen = true;
        } else if (arg == "--mode" && has_value) {
            opt.mode = parse_mode(argv[++i]);
        } else if (arg == "--close") {
            close = true;
        } else if (arg == "--verbose") {
            opt.verbose = true;
        } else {
            usage(("unknown argument " + arg).c_str());
        }
    }
    if (!chosen) usage("say which seeds");
    if (opt.single) opt.mode = close ? Mode::close : Mode::normal;
    return opt;
}

void run(const Options& opt, Counters& totals) {
    if (opt.seconds <= 0) {
        for (std::uint64_t seed = opt.first;; ++seed) {
            run_modes(seed, opt, totals);
            if (seed == opt.last) break;
        }
        return;
    }
    using Clock = std::chrono::steady_clock;
    auto until = Clock::now() + std::chrono::duration<double>(opt.seconds);
    std::uint64_t seed = std::random_device()();  // printed with any failure
    while (Clock::now() < until) run_modes(seed++, opt, totals);
}

}  // namespace
}  // namespace fuzz

int main(int argc, char** argv) {
    fuzz::Options opt = fuzz::parse(argc, argv);
    fuzz::install_crash_note();
    fuzz::Counters totals;
    fuzz::run(opt, totals);
    fuzz::note_exit();
    std::printf(
        "stress fuzz: %llu seeds, %llu operations, %llu cancellations, %llu checks, "
        "%llu failures\n",
        static_cast<unsigned long long>(totals.seeds),
        static_cast<unsigned long long>(totals.operations),
        static_cast<unsigned long long>(totals.cancellations),
        static_cast<unsigned long long>(totals.checks),
        static_cast<unsigned long long>(totals.failures));
    std::fflush(stdout);  // before LeakSanitizer's check at exit, which may abort
    return totals.failures ? 1 : 0;
}
