// test_threads.cpp: being written.
#include <doctest/doctest.h>
