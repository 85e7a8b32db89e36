// threads.cpp: being written.
#include "lesson03_tasks/threads.hpp"
