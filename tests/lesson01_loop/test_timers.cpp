// test_timers.cpp - call_later/call_at, the timer heap and the virtual clock
// (asyncio: test_base_events.py::test_call_later, test_time_and_call_at,
// test__run_once_cancelled_event_cleanup; test_events.py::test_timeout_rounding).
#include <doctest/doctest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/exceptions.hpp"

namespace {

// An embedded handle, as lesson 2's driver keeps its step: each run adds its name.
struct Parkable {
    Parkable(std::string* trace, std::string name) : trace(trace), name(std::move(name)) {}
    static void run(aio::Handle& h) {
        auto* self = static_cast<Parkable*>(h.owner());
        *self->trace += self->name;
    }
    static constexpr aio::HandleOps ops = {&Parkable::run, nullptr, nullptr};
    std::string* trace;
    std::string name;
    aio::Handle handle{&ops, this};
};

}  // namespace

TEST_SUITE("lesson01") {
    TEST_CASE("call_later(d) is call_at(time() + d); when() reports the deadline") {
        auto loop = test::virtual_loop();
        loop->call_soon([] {});
        loop->run_once();
        double fired_at = -1;
        aio::TimerHandle t = loop->call_later(2.5, [&] { fired_at = loop->time(); });
        CHECK(t.when() == doctest::Approx(loop->time() + 2.5));
        aio::TimerHandle at = loop->call_at(4.0, [&] { loop->stop(); });
        CHECK(at.when() == 4.0);
        loop->run_forever();
        CHECK(fired_at == doctest::Approx(2.5));
        CHECK(loop->time() == 4.0);
    }

    TEST_CASE("timers fire in deadline order; equal deadlines fire in scheduling order") {
        auto loop = test::virtual_loop();
        std::string trace;
        loop->call_later(0.3, [&] { trace += "c"; });
        loop->call_later(0.1, [&] { trace += "a1"; });
        loop->call_later(0.2, [&] { trace += "b"; });
        loop->call_later(0.1, [&] { trace += "a2"; });
        loop->call_later(0.1, [&] { trace += "a3"; });
        loop->call_later(0.4, [&] { loop->stop(); });
        loop->run_forever();
        CHECK(trace == "a1a2a3bc");
    }

    TEST_CASE("negative delays are legal and fire at once, in deadline order") {
        auto loop = test::virtual_loop();
        std::string trace;
        loop->call_later(-1, [&] { trace += "-1 "; });
        loop->call_later(-2, [&] { trace += "-2 "; });
        loop->call_soon([&] { loop->stop(); });
        loop->run_forever();
        CHECK(trace == "-2 -1 ");
        CHECK(loop->time() == 0.0);
    }

    TEST_CASE("due timers join the ready queue after callbacks already there") {
        // asyncio: call_later(0, t0); call_soon(s1) runs s1 first (parity row 019).
        auto loop = test::virtual_loop();
        std::vector<std::string> trace;
        loop->call_later(0, [&] { trace.push_back("t0"); });
        loop->call_soon([&] { trace.push_back("s1"); });
        loop->run_once();
        CHECK(trace == std::vector<std::string>{"s1", "t0"});
    }

    TEST_CASE("virtual clock: a 5-second schedule runs at once and reports 5.00 s") {
        auto loop = test::virtual_loop();
        std::vector<std::string> trace;
        auto stamp = [&](const char* what) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.2f %s", loop->time(), what);
            trace.push_back(buf);
        };
        loop->call_later(1, [&] { stamp("one"); });
        loop->call_later(3, [&] { stamp("three"); });
        loop->call_later(5, [&] {
            stamp("five");
            loop->stop();
        });
        loop->run_forever();
        CHECK(trace == std::vector<std::string>{"1.00 one", "3.00 three", "5.00 five"});
        CHECK(loop->time() == 5.0);
    }

    TEST_CASE("a cancelled timer never fires and costs no wake-up") {
        auto loop = test::virtual_loop();
        bool fired = false;
        aio::TimerHandle t = loop->call_later(10, [&] { fired = true; });
        loop->call_later(20, [&] { loop->stop(); });
        t.cancel();
        CHECK(t.cancelled());
        std::uint64_t before = loop->iterations();
        loop->run_forever();
        CHECK_FALSE(fired);
        CHECK(loop->iterations() == before + 1);  // straight to t=20
        CHECK(loop->time() == 20.0);
        CHECK(loop->timer_count() == 0);
    }

    TEST_CASE("the timer heap is rebuilt when more than half of over 100 timers are cancelled") {
        auto loop = test::virtual_loop();
        std::vector<aio::TimerHandle> timers;
        for (int i = 0; i < 200; ++i) timers.push_back(loop->call_later(100 + i, [] {}));
        for (int i = 0; i < 100; ++i) timers[static_cast<std::size_t>(i)].cancel();
        CHECK(loop->timer_count() == 200);  // lazily: still in the heap
        timers[100].cancel();               // 101 of 200 cancelled: compaction
        CHECK(loop->timer_count() == 99);
        int fired = 0;
        loop->call_later(1000, [&] { loop->stop(); });
        loop->call_later(150, [&] { ++fired; });
        loop->run_forever();
        CHECK(fired == 1);
        CHECK(loop->timer_count() == 0);
    }

    TEST_CASE("tiny timeouts do not spin: five short timers take few iterations") {
        // asyncio: test_events.py::test_timeout_rounding (≤ 20 iterations). Real clock.
        aio::EventLoop loop(nullptr, std::make_unique<aio::MonotonicClock>());
        int fired = 0;
        for (double d : {1e-3, 1e-5, 1e-7, 1e-9, 1e-10})
            loop.call_later(d, [&] {
                if (++fired == 5) loop.stop();
            });
        std::uint64_t before = loop.iterations();
        loop.run_forever();
        CHECK(fired == 5);
        CHECK(loop.iterations() - before <= 20);
    }

    TEST_CASE("time() never runs backwards") {
        aio::EventLoop loop(nullptr, std::make_unique<aio::MonotonicClock>());
        double a = loop.time();
        double b = loop.time();
        CHECK(b >= a);
        aio::VirtualClock clock(3.0);
        clock.jump_to(1.0);
        CHECK(clock.now() == 3.0);
        CHECK_THROWS_AS(clock.advance(-1), std::invalid_argument);
    }

    TEST_CASE("a TimerHandle cancelled after it fired changes nothing") {
        auto loop = test::virtual_loop();
        int fired = 0;
        aio::TimerHandle t = loop->call_later(1, [&] { ++fired; });
        loop->call_later(2, [&] { loop->stop(); });
        loop->run_forever();
        t.cancel();
        CHECK(fired == 1);
        CHECK(t.when() == 1.0);
    }

    TEST_CASE("a timer far out on the clock still fires (the resolution does not round it away)") {
        aio::EventLoop loop(nullptr, std::make_unique<aio::VirtualClock>(1e9));
        bool fired = false;
        loop.call_later(1, [&] {
            fired = true;
            loop.stop();
        });
        loop.run_forever();
        CHECK(fired);
        CHECK(loop.time() == 1e9 + 1);
    }
}

namespace {
void noop() {}
void other_noop() {}
}  // namespace

TEST_SUITE("lesson01") {
    TEST_CASE(
        "TimerHandle ordering and equality are asyncio's (test_events.py::test_timer_comparison)") {
        auto loop = test::virtual_loop();
        aio::TimerHandle h1 = loop->call_at(10, &noop);
        aio::TimerHandle h2 = loop->call_at(10, &noop);  // same when, same callback: equal
        CHECK_FALSE(h1 < h2);
        CHECK_FALSE(h2 < h1);
        CHECK(h1 <= h2);
        CHECK(h2 <= h1);
        CHECK_FALSE(h1 > h2);
        CHECK_FALSE(h2 > h1);
        CHECK(h1 >= h2);
        CHECK(h2 >= h1);
        CHECK(h1 == h2);
        CHECK_FALSE(h1 != h2);
        h2.cancel();
        CHECK_FALSE(h1 == h2);  // the cancelled flags differ

        aio::TimerHandle later = loop->call_at(20, &noop);
        CHECK(h1 < later);
        CHECK(h1 <= later);
        CHECK_FALSE(h1 > later);
        CHECK(later > h1);
        CHECK(later >= h1);
        CHECK(h1 != later);
    }

    TEST_CASE("TimerHandle: different callbacks are not equal; a handle equals its copies") {
        auto loop = test::virtual_loop();
        aio::TimerHandle a = loop->call_at(5, &noop);
        aio::TimerHandle b = loop->call_at(5, &other_noop);
        aio::TimerHandle c = loop->call_at(5, [] {});  // lambdas have no ==: itself only
        aio::TimerHandle d = loop->call_at(5, [] {});
        CHECK(a != b);
        CHECK_FALSE(a <= b);  // neither < nor ==, as in asyncio
        CHECK(c != d);
        aio::TimerHandle copy = c;
        CHECK(copy == c);
        loop->call_at(6, [&] { loop->stop(); });
        loop->run_forever();  // they ran: the loop recycled them, identity remains
        CHECK(copy == c);
        CHECK(c != d);
    }

    TEST_CASE("schedule_at: a parked handle runs at its deadline, FIFO with call_at timers") {
        auto loop = test::virtual_loop();
        std::string trace;
        Parkable p(&trace, "p");
        loop->call_at(2, [&] { trace += "a"; });
        loop->schedule_at(p.handle, 2);
        loop->call_at(2, [&] { trace += "b"; });
        loop->call_at(1, [&] { trace += std::string(p.handle.parked() ? "1" : "?"); });
        loop->call_at(3, [&] { loop->stop(); });
        loop->run_forever();
        CHECK(trace == "1apb");
        CHECK_FALSE(p.handle.parked());
        CHECK(loop->timer_count() == 0);
    }

    TEST_CASE("unschedule: a handle taken back out never runs, and its owner may go at once") {
        auto loop = test::virtual_loop();
        std::string trace;
        auto p = std::make_unique<Parkable>(&trace, "p");
        loop->schedule_at(p->handle, 5);
        CHECK(loop->unschedule(p->handle));
        CHECK_FALSE(p->handle.parked());
        CHECK_FALSE(loop->unschedule(p->handle));  // not parked any more
        p.reset();                                 // the heap's entry no longer reaches it
        CHECK(loop->timer_count() == 1);           // dropped lazily, as a cancelled timer
        loop->call_at(10, [&] { loop->stop(); });
        std::uint64_t before = loop->iterations();
        loop->run_forever();
        CHECK(trace.empty());
        CHECK(loop->iterations() == before + 1);  // straight to t=10: no wake-up at 5
        CHECK(loop->timer_count() == 0);
    }

    TEST_CASE("unschedule: a handle parked again after it was taken out runs once, on time") {
        auto loop = test::virtual_loop();
        std::string trace;
        Parkable p(&trace, "p");
        loop->schedule_at(p.handle, 1);
        loop->unschedule(p.handle);
        loop->schedule_at(p.handle, 3);  // the old entry, at 1, is dead: it must not fire it
        loop->call_at(2, [&] { trace += "2"; });
        loop->call_at(4, [&] { loop->stop(); });
        loop->run_forever();
        CHECK(trace == "2p");
    }

    TEST_CASE("close(): a parked handle is dropped and cancelled, never run") {
        auto loop = test::virtual_loop();
        std::string trace;
        Parkable p(&trace, "p");
        loop->schedule_at(p.handle, 1);
        loop->close();
        CHECK(trace.empty());
        CHECK(p.handle.cancelled());
        CHECK_FALSE(p.handle.parked());
        CHECK(loop->timer_count() == 0);
        CHECK_THROWS_WITH_AS(loop->schedule_at(p.handle, 2), "Event loop is closed",
                             aio::RuntimeError);
    }
}
