// taskgroups.hpp - aio::TaskGroup: child tasks that finish, and fail, together
// (asyncio: taskgroups.py, TaskGroup).
//
// A group is a scope inside a parent task. Children started with tg.create_task() run
// beside the scope's body; the scope ends only when every child is done, including
// children added later, by the body or by other children. A child cancelled on its own
// is nobody's failure. The first child that fails cancels its siblings and the parent
// (its body sees CancelledError at its co_await, as a timeout would interrupt it); at the
// exit the group withdraws that request (uncancel) and throws every failure, the body's
// included, as one aio::ExceptionGroup. A cancel from outside (the parent's cancel(), a
// timeout around the group) cancels every child, waits for them, and comes out as
// CancelledError, unless children failed: then the ExceptionGroup wins.
//
// C++ has no `async with`, so the block is a body the group awaits:
//     co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
//         tg.create_task(fetch("a"));
//         tg.create_task(fetch("b"));
//         co_return;
//     });  // both are done here, or an ExceptionGroup says what failed
// or, to keep the group for later questions, with lesson 2's async_with:
//     aio::TaskGroup tg;
//     co_await aio::async_with(tg, [&]() -> aio::Coro<void> { tg.create_task(...); ... });
//
// Differences from asyncio (3.11's taskgroups.py):
//   - exit() follows 3.13 (gh-116720): it withdraws its own cancel request only after
//     the children are done, and when it throws the ExceptionGroup while the parent is
//     being cancelled from outside, it re-delivers that cancel (uncancel + cancel) so it
//     is not lost. create_task on a group that refuses tasks closes the coroutine.
//   - No TaskGroup.cancel() (3.14's); no eager tasks, so a child is never done at birth.
//   - C++ has no KeyboardInterrupt/SystemExit: every exception joins the group (asyncio
//     re-raises those two alone, ungrouped). No context= argument (no contextvars).
//   - The group lives in its parent's frame and must be exited once entered (the
//     task_group() form guarantees it); it holds its parent by plain pointer.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace aio {

class TaskGroup {
public:
    TaskGroup() = default;
    TaskGroup(const TaskGroup&) = delete;  // children's done callbacks point at it
    TaskGroup& operator=(const TaskGroup&) = delete;
    ~TaskGroup();

    // asyncio: TaskGroup.__aenter__. The current task becomes the parent. RuntimeError:
    // "TaskGroup <...> has already been entered", "... cannot determine the parent task".
    void enter();
    // asyncio: TaskGroup.__aexit__. `error` is what the body threw (null if it
    // returned). Waits for every child; then returns normally, or throws
    // CancelledError (a cancel from outside and no failure) or an ExceptionGroup.
    Coro<void> exit(std::exception_ptr error);
    // The same for lesson 2's async_with(tg, body), where the body captures tg.
    Coro<void> aenter();
    Coro<void> aexit(std::exception_ptr error) { return exit(std::move(error)); }

    // asyncio: TaskGroup.create_task. RuntimeError (the coroutine closed): "TaskGroup
    // <...> has not been entered", "... is finished", "... is shutting down".
    template <class T>
    Task<T> create_task(Coro<T> coro, std::string_view name = {});

    // Children not finished yet (asyncio: len(tg._tasks)).
    std::size_t size() const noexcept { return pending_; }
    // "<TaskGroup tasks=2 errors=1 cancelling>", "<TaskGroup entered>".
    std::string repr() const;

private:
    struct Child {
        detail::Ref<TaskBase> task;
        CallbackId on_done;
    };
    const char* refusal() const noexcept;  // why create_task refuses, or null
    void adopt(TaskBase& task);
    void on_task_done(detail::FutureStateBase& task);  // asyncio: _on_task_done
    void abort();                                      // asyncio: _abort
    Coro<void> wait_children(std::exception_ptr& propagate);

    // Set by enter().
    TaskBase* parent_ = nullptr;
    EventLoop* loop_ = nullptr;
    // Loop thread only.
    bool entered_ = false;
    bool exiting_ = false;
    bool aborting_ = false;
    bool parent_cancel_requested_ = false;  // we called parent_->cancel(): must uncancel
    std::size_t pending_ = 0;               // children whose done callback has not run
    std::vector<Child> children_;           // every pending child; done ones pruned lazily
    std::vector<std::exception_ptr> errors_;
    std::optional<Future<void>> on_completed_;  // exit() waits on it while children run
};

// `async with asyncio.TaskGroup() as tg: await body(tg)`: once every child is done,
// returns, or throws (see exit()). Like the `async with` statement, it gives no value;
// the body assigns what it wants to keep. (Not a template: Clang 14 cannot sanitize a
// coroutine template, and one std::function per group is cheap beside its tasks.)
Coro<void> task_group(std::function<Coro<void>(TaskGroup&)> body);

// ---- template implementation -----------------------------------------------------

template <class T>
Task<T> TaskGroup::create_task(Coro<T> coro, std::string_view name) {
    if (const char* why = refusal()) {
        coro.close();
        throw RuntimeError("TaskGroup " + repr() + why);
    }
    Task<T> task = aio::create_task(*loop_, std::move(coro), name);
    adopt(*task.get());
    return task;
}

}  // namespace aio
