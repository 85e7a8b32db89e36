// world.cpp - a World's construction from its seed, its random helpers, its record,
// and the queue wrapper that hides which of the three queue kinds it is.
#include "tests/stress/fuzz/world.hpp"

#include <cstdio>

namespace fuzz {

ModelSemaphore::ModelSemaphore(int value, bool bounded)
    : sem(bounded ? std::make_unique<aio::BoundedSemaphore>(value)
                  : std::make_unique<aio::Semaphore>(value)),
      initial(value) {}

// ---- ModelQueue ----------------------------------------------------------------------

ModelQueue::ModelQueue(Kind k, int maxsize) : kind(k) {
    switch (kind) {
        case Kind::fifo: fifo = std::make_unique<aio::Queue<int>>(maxsize); break;
        case Kind::lifo: lifo = std::make_unique<aio::LifoQueue<int>>(maxsize); break;
        case Kind::priority: priority = std::make_unique<aio::PriorityQueue<int>>(maxsize); break;
    }
}

const char* ModelQueue::name() const {
    static const char* const names[] = {"Queue", "LifoQueue", "PriorityQueue"};
    return names[static_cast<int>(kind)];
}

std::size_t ModelQueue::qsize() const {
    return const_cast<ModelQueue*>(this)->visit([](auto& q) { return q.qsize(); });
}
bool ModelQueue::full() const {
    return const_cast<ModelQueue*>(this)->visit([](auto& q) { return q.full(); });
}
aio::QueueBase& ModelQueue::base() {
    return visit([](auto& q) -> aio::QueueBase& { return q; });
}
aio::Coro<void> ModelQueue::put(int item) {
    return visit([item](auto& q) { return q.put(item); });
}
aio::Coro<int> ModelQueue::get() {
    return visit([](auto& q) { return q.get(); });
}
void ModelQueue::put_nowait(int item) {
    visit([item](auto& q) { q.put_nowait(item); });
}
int ModelQueue::get_nowait() {
    return visit([](auto& q) { return q.get_nowait(); });
}
void ModelQueue::shutdown(bool immediate) {
    visit([immediate](auto& q) { q.shutdown(immediate); });
}

// ---- World ---------------------------------------------------------------------------

namespace {

Shape draw_shape(World& w, bool close_mode) {
    Shape s;
    s.initial_tasks = 2 + static_cast<int>(w.below(5));
    s.max_tasks = s.initial_tasks + 4 + static_cast<int>(w.below(12));
    s.ops_per_task = 4 + static_cast<int>(w.below(24));
    s.program_end = 2.0 + static_cast<double>(w.below(6));
    s.close_mode = close_mode;
    // Anywhere in the program, including the cancelling at its end.
    s.close_time =
        0.05 * static_cast<double>(w.below(static_cast<std::uint64_t>(s.program_end * 20) + 40));
    s.close_extra = static_cast<int>(w.below(4));
    return s;
}

// A few of each primitive, so that tasks collide on them.
void make_primitives(World& w) {
    for (int i = 0; i < 2; ++i) {
        w.locks.push_back(std::make_unique<ModelLock>());
        w.conditions.push_back(std::make_unique<aio::Condition>(w.locks.back()->lock));
        w.events.push_back(std::make_unique<aio::Event>());
    }
    w.semaphores.push_back(
        std::make_unique<ModelSemaphore>(1 + static_cast<int>(w.below(3)), false));
    w.semaphores.push_back(
        std::make_unique<ModelSemaphore>(1 + static_cast<int>(w.below(2)), true));
    w.barriers.push_back(std::make_unique<aio::Barrier>(2 + static_cast<int>(w.below(2))));
    for (int k = 0; k < 3; ++k) {
        int maxsize = static_cast<int>(w.below(4));  // 0: unbounded
        w.queues.push_back(std::make_unique<ModelQueue>(static_cast<ModelQueue::Kind>(k), maxsize));
    }
}

}  // namespace

World::World(std::uint64_t s, bool close_mode) : rng(s), seed(s) {
    shape = draw_shape(*this, close_mode);
    make_primitives(*this);
}

double World::delay() {
    if (chance(15)) return 0.0;
    return 0.05 * static_cast<double>(1 + below(20));
}

std::optional<double> World::maybe_timeout() {
    if (chance(40)) return std::nullopt;
    return 0.05 * static_cast<double>(below(12));  // 0 included: wait_for's "now" path
}

void World::note(int who, const std::string& what, bool op) {
    if (op) ++counters.operations;
    char head[64];
    double now = loop ? loop->time() : 0.0;
    std::uint64_t it = loop ? loop->iterations() : 0;
    std::snprintf(head, sizeof head, "[t=%.2f it=%llu] T%d: ", now,
                  static_cast<unsigned long long>(it), who);
    record(head + what);
}

void World::record(std::string line) {
    if (echo) {
        std::printf("  %s\n", line.c_str());
        std::fflush(stdout);
    }
    trace.push_back(std::move(line));
}

void World::fail(const std::string& what) {
    char head[64];
    double now = loop ? loop->time() : 0.0;
    std::snprintf(head, sizeof head, "[t=%.2f] ", now);
    failures.push_back(head + what);
    record(std::string("!!! FAILURE: ") + what);
}

int World::adopt(aio::Task<void> task) {
    tasks.push_back(std::move(task));
    return static_cast<int>(tasks.size()) - 1;
}

int World::pick_pending_task(int not_this) {
    std::vector<int> pending;
    for (std::size_t i = 1; i < tasks.size(); ++i)  // never the root (id 0)
        if (static_cast<int>(i) != not_this && !tasks[i].done())
            pending.push_back(static_cast<int>(i));
    if (pending.empty()) return -1;
    return pending[below(pending.size())];
}

void World::release_refs() {
    tasks.clear();
    futures.clear();
}

}  // namespace fuzz
