// test_runners.cpp: being written.
#include <doctest/doctest.h>
