// test_wait.cpp: being written.
#include <doctest/doctest.h>
