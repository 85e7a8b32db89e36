// gather.cpp: being written.
#include "lesson03_tasks/gather.hpp"
