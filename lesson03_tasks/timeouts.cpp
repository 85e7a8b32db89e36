// timeouts.cpp: being written.
#include "lesson03_tasks/timeouts.hpp"
