// test_taskgroups.cpp: being written.
#include <doctest/doctest.h>
