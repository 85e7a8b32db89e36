// wait: being written.
#pragma once
