// test_main.cpp - doctest's main for lesson 4.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
