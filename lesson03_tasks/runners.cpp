// runners.cpp: being written.
#include "lesson03_tasks/runners.hpp"
