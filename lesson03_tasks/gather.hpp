// gather: being written.
#pragma once
