// ops.hpp - the operations a fuzzed task performs, and the tasks that perform them.
//
// A program is a tree of tasks. The root (root()) starts a few actors; an actor
// (actor()) performs shape.ops_per_task operations picked at random from the table
// in actor.cpp, and some operations start more tasks: actors, or workers (worker()),
// which sleep and then return or throw FuzzError. Every task is registered in the
// World, so that the root can retrieve every outcome at the end: the program reads
// every exception, so any "never retrieved" log is the library's fault.
//
// Termination is by design, not by luck: at shape.program_end the root cancels every
// pending task, again every half second, and an actor swallows at most two
// cancellations, so a run that does not end has a lost wake-up or a lost cancel.
//
// Each operation is a named coroutine (no coroutine lambdas: a capturing coroutine
// lambda dangles), taking the Actor that performs it. ops_tasks.cpp has lessons 2-3's
// (sleep, futures, cancel, gather, wait, wait_for, timeout, shield, TaskGroup,
// as_completed), ops_sync.cpp lesson 4's (locks, events, conditions, semaphores,
// barriers, queues).
#pragma once

#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "tests/stress/fuzz/world.hpp"

namespace fuzz {

// Who performs an operation: a task of the program, by its id in World::tasks.
struct Actor {
    World& w;
    int id;
    int depth;          // 0 for the root's actors; children are deeper
    int swallowed = 0;  // cancellations this actor caught and ignored
};

using Op = aio::Coro<void> (*)(Actor&);

struct OpEntry {
    const char* name;
    Op run;
    int weight;
};

// The tasks.
aio::Coro<void> root(World& w);
aio::Coro<void> actor(World& w, int id, int depth);
aio::Coro<void> worker(World& w, int id, double delay, bool fails);
// A worker with a random delay that fails one time in four (id -1: not registered).
aio::Coro<void> random_worker(World& w, int id);

// Starts a new registered actor or worker; returns its id (-1 if the program is full).
int spawn_actor(World& w, int depth);
int spawn_worker(World& w, int parent);

// The operation tables (ops_tasks.cpp, ops_sync.cpp).
const std::vector<OpEntry>& task_ops();
const std::vector<OpEntry>& sync_ops();

}  // namespace fuzz
