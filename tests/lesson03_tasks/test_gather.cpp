// test_gather.cpp: being written.
#include <doctest/doctest.h>
