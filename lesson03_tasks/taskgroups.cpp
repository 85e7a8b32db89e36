// taskgroups.cpp: being written.
#include "lesson03_tasks/taskgroups.hpp"
