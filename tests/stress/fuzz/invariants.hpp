// invariants.hpp - what must hold of a fuzzed program, and when.
//
//   check_idle   after an iteration that leaves the ready queue empty: every task is
//                blocked (on a timer or a wait), so nobody is about to be woken. Then
//                nothing may wait on something available (a lost wake-up), and the
//                primitives must agree with the World's model.
//   check_end    after the program finished (normal mode): everything is back at rest.
//   check_logs   after the loop closed: no log line at all in normal mode; in close
//                mode only "Task was destroyed but it is pending!".
#pragma once

#include "tests/stress/fuzz/world.hpp"

namespace fuzz {

void check_idle(World& w);
void check_end(World& w);
void check_logs(World& w);

}  // namespace fuzz
