// scenario.hpp - the differential test's scenarios, as the C++ side reads them.
//
// A scenario is data: the text that scenario.py generates from a seed (its docstring
// describes the format). Both interpreters read the same text, so this is only the
// parsed form: each task's body as a tree of ops, and the scenario's objects.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <vector>

namespace stress {

// One line of a task body; a block op (try, timeout, taskgroup, with) has a body.
struct Op {
    std::string name;
    std::vector<std::string> args;
    std::vector<Op> body;
};

struct Scenario {
    std::uint64_t seed = 0;
    int semaphore_value = 1;                       // S0's initial value
    int queue_maxsize = 0;                         // Q0's maxsize (0: unbounded)
    std::map<std::string, std::vector<Op>> tasks;  // task name -> body
};

// Every scenario in `in`, in order. Throws std::runtime_error on a malformed line.
std::vector<Scenario> parse_scenarios(std::istream& in);

}  // namespace stress
