// timeouts: being written.
#pragma once
