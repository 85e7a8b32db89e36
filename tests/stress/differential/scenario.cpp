// scenario.cpp - parsing the scenario text (the format is scenario.py's docstring).
//
// Line-oriented, as the Python parser is: the first word says what a line is; block
// ops open a body that `end` closes; indentation is ignored.
#include "tests/stress/differential/scenario.hpp"

#include <sstream>
#include <stdexcept>

namespace stress {

namespace {

bool is_block(const std::string& name) {
    return name == "try" || name == "timeout" || name == "taskgroup" || name == "with";
}

std::vector<std::string> split(const std::string& line) {
    std::istringstream words(line);
    std::vector<std::string> out;
    for (std::string w; words >> w;) out.push_back(w);
    return out;
}

// "S0=2" -> the scenario's S0 value; a name without '=' keeps its default.
void read_object(Scenario& s, const std::string& word) {
    auto eq = word.find('=');
    if (eq == std::string::npos) return;
    int value = std::stoi(word.substr(eq + 1));
    std::string name = word.substr(0, eq);
    if (name == "S0") s.semaphore_value = value;
    if (name == "Q0") s.queue_maxsize = value;
}

// Reads the lines after "scenario SEED" up to "endscenario".
Scenario parse_one(std::uint64_t seed, std::istream& in) {
    Scenario s;
    s.seed = seed;
    std::vector<std::vector<Op>*> open;  // open.back() takes the next op
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> words = split(line);
        if (words.empty()) continue;
        const std::string& head = words[0];
        if (head == "endscenario") return s;
        if (head == "objects") {
            for (std::size_t i = 1; i < words.size(); ++i) read_object(s, words[i]);
        } else if (head == "task") {
            open.assign(1, &s.tasks[words.at(1)]);
        } else if (head == "end") {
            open.pop_back();
        } else {
            if (open.empty()) throw std::runtime_error("op outside a task: " + line);
            std::vector<Op>& body = *open.back();
            body.push_back(Op{head, {words.begin() + 1, words.end()}, {}});
            if (is_block(head)) open.push_back(&body.back().body);
        }
    }
    throw std::runtime_error("scenario " + std::to_string(seed) + ": no endscenario");
}

}  // namespace

std::vector<Scenario> parse_scenarios(std::istream& in) {
    std::vector<Scenario> out;
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> words = split(line);
        if (words.size() == 2 && words[0] == "scenario")
            out.push_back(parse_one(std::stoull(words[1]), in));
    }
    return out;
}

}  // namespace stress
