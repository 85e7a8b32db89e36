// world.hpp - the state one fuzzed program runs in: its random source, the shared
// primitives the tasks fight over, what the fuzzer believes about them (the model),
// the tasks it made, its trace, and the failures found.
//
// One seed makes one World. Everything random is drawn from World::rng, a
// std::mt19937_64 seeded with the seed and read only on the loop thread; the loop is
// deterministic under a VirtualClock (FIFO ready queue, timers ordered by deadline then
// sequence), so a seed replays the same program, the same interleaving, the same trace,
// with GCC or Clang (no draw depends on the order a call's arguments are evaluated in).
// A seed means that program for this version of the fuzzer and the library only: the
// op table and the library's scheduling are part of it.
//
// The model is what lets the invariants (invariants.cpp) say more than "it did not
// crash": a lock's holder as the tasks saw it, the permits each semaphore has lent, and
// a ledger of every queue item (put, got, dropped). The model is written only by the
// task that changes the primitive, at the moment the library says it changed.
//
// Ownership: a World outlives the loop's frames (close() destroys frames whose RAII
// guards write to the model), so main.cpp makes the World before the loop and drops
// its task and future references (release_refs) before the loop dies.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "lesson01_loop/event_loop.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson04_sync/locks.hpp"
#include "lesson04_sync/queues.hpp"

namespace fuzz {

// What the program deliberately throws (a child that "fails").
struct FuzzError : std::runtime_error {
    FuzzError() : std::runtime_error("FuzzError: a child failed on purpose") {}
};

// Totals over every seed of one stress_fuzz run, for the summary line.
struct Counters {
    std::uint64_t seeds = 0;
    std::uint64_t operations = 0;
    std::uint64_t cancellations = 0;  // cancel() calls made by the program
    std::uint64_t checks = 0;         // invariant evaluations
    std::uint64_t failures = 0;       // seeds with at least one failure
};

// A lock and who holds it, as far as the tasks know (-1: nobody).
struct ModelLock {
    aio::Lock lock;
    int holder = -1;
};

struct ModelSemaphore {
    ModelSemaphore(int value, bool bounded);
    std::unique_ptr<aio::Semaphore> sem;  // a Semaphore or a BoundedSemaphore
    int initial;
    int lent = 0;  // permits taken by tasks and not yet given back
};

// The three queue kinds behind one interface, with their item ledger.
struct ModelQueue {
    enum class Kind { fifo, lifo, priority };
    ModelQueue(Kind kind, int maxsize);
    const char* name() const;
    std::size_t qsize() const;
    bool empty() const { return qsize() == 0; }
    bool full() const;
    aio::QueueBase& base();
    aio::Coro<void> put(int item);
    aio::Coro<int> get();
    void put_nowait(int item);
    int get_nowait();
    void shutdown(bool immediate);
    // fn(the queue that exists): the three kinds share no virtual interface.
    template <class F>
    decltype(auto) visit(F&& fn) {
        if (kind == Kind::fifo) return fn(*fifo);
        if (kind == Kind::lifo) return fn(*lifo);
        return fn(*priority);
    }

    Kind kind;
    std::unique_ptr<aio::Queue<int>> fifo;
    std::unique_ptr<aio::LifoQueue<int>> lifo;
    std::unique_ptr<aio::PriorityQueue<int>> priority;
    // The ledger: item -> 1 while in the queue (put returned), 2 once got.
    std::map<int, int> ledger;
    std::size_t dropped = 0;  // by shutdown(immediate)
};

// The knobs of one program, drawn from the seed.
struct Shape {
    int initial_tasks;   // actors the root starts
    int max_tasks;       // actors and children the program may make in all
    int ops_per_task;    // operations each actor performs
    double program_end;  // virtual time at which the root starts cancelling everyone
    bool close_mode;     // close the loop at a random moment instead of letting it finish
    double close_time;   // close mode: the virtual time after which it closes,
    int close_extra;     // and how many more iterations it turns first
};

class World {
public:
    World(std::uint64_t seed, bool close_mode);
    World(const World&) = delete;
    World& operator=(const World&) = delete;

    // ---- random choices (deterministic per seed) ----
    std::uint64_t below(std::uint64_t n) { return n ? rng() % n : 0; }
    bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }
    double delay();  // a short virtual delay: 0, or a multiple of 0.05 up to 1.0
    std::optional<double> maybe_timeout();  // none, or a short timeout

    // ---- the record ----
    // Appends "[t it] who: what" to the trace (and counts an operation if `op`).
    void note(int who, const std::string& what, bool op = false);
    void fail(const std::string& what);
    void record(std::string line);  // appends to the trace (and echoes it)
    void check(bool ok, const std::string& what) {
        ++counters.checks;
        if (!ok) fail(what);
    }
    bool failed() const { return !failures.empty(); }

    // ---- tasks ----
    // Registers a task under a new id; returns the id.
    int adopt(aio::Task<void> task);
    bool may_spawn() const { return static_cast<int>(tasks.size()) < shape.max_tasks; }
    // A registered task other than `not_this` that is still pending, or -1.
    int pick_pending_task(int not_this);
    void release_refs();  // drops the tasks and futures (before the loop dies)

    std::mt19937_64 rng;
    std::uint64_t seed;
    Shape shape;
    Counters counters;  // this seed's share; main adds it to the totals
    aio::EventLoop* loop = nullptr;
    std::vector<std::string> trace;
    bool echo = false;  // print each trace line as it is made (--seed: a crash shows it)
    std::vector<std::string> failures;
    std::vector<std::string> logs;         // what the library logged (set_log_sink)
    std::size_t logs_checked = 0;          // lines of `logs` check_logs has judged
    std::size_t logs_at_close = SIZE_MAX;  // lines of `logs` logged before close() began

    std::vector<aio::Task<void>> tasks;  // id -> task; id 0 is the root
    std::vector<aio::Future<int>> futures;
    std::vector<std::unique_ptr<ModelLock>> locks;
    std::vector<std::unique_ptr<aio::Event>> events;
    std::vector<std::unique_ptr<aio::Condition>> conditions;  // conditions[i] on locks[i]
    std::vector<std::unique_ptr<ModelSemaphore>> semaphores;
    std::vector<std::unique_ptr<aio::Barrier>> barriers;
    std::vector<std::unique_ptr<ModelQueue>> queues;
    int next_item = 1;  // queue items are unique: the ledger can tell them apart
};

}  // namespace fuzz
