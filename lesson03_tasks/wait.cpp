// wait.cpp: being written.
#include "lesson03_tasks/wait.hpp"
