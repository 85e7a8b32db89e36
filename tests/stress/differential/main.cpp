// main.cpp - stress_differential: the C++ half of the differential test.
//
// Reads scenarios (scenario.py's text format) from FILE, or stdin, runs each on a fresh
// event loop (interpreter.hpp) and prints every trace, one event a line, in the format
// reference.py prints for CPython's asyncio. differential.py runs this once per batch
// and compares. The library's log lines are not part of the trace (CPython's come from
// its garbage collector at no fixed time), so they are dropped here.
//
// usage: stress_differential [FILE]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "lesson01_loop/log.hpp"
#include "tests/stress/differential/interpreter.hpp"

int main(int argc, char** argv) {
    std::ifstream file;
    if (argc > 1) {
        file.open(argv[1]);
        if (!file) {
            std::cerr << "stress_differential: cannot read " << argv[1] << "\n";
            return 2;
        }
    }
    std::istream& in = argc > 1 ? file : std::cin;
    aio::set_log_sink([](aio::LogLevel, std::string_view) {});
    std::string out;
    for (const stress::Scenario& scenario : stress::parse_scenarios(in)) {
        stress::Run run(scenario);
        for (const std::string& line : run.run()) out += line + "\n";
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}
