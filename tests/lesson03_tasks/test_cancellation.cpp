// test_cancellation.cpp: being written.
#include <doctest/doctest.h>
