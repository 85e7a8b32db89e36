// test_timeouts.cpp: being written.
#include <doctest/doctest.h>
