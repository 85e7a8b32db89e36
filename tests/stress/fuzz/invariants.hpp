// invariants.hpp - what must hold of a fuzzed program, and when.
//
//   check_idle   after an iteration that leaves the ready queue empty: every task is
//                blocked (on a timer or a wait), so nobody is about to be woken. Then
//                nothing may wait on something available (a lost wake-up), and the
//                primitives must agree with the World's model.
//   check_end    after the program finished (normal mode): everything is back at rest.
//   check_logs   no log line before close(); from close() on (close mode, or a run
//                stopped by a failure) only "Task was destroyed but it is pending!"
//                and "... exception was never retrieved" for what close() destroyed.
#pragma once

#include "tests/stress/fuzz/world.hpp"

namespace fuzz {

void check_idle(World& w);
void check_end(World& w);
void check_logs(World& w);

}  // namespace fuzz
