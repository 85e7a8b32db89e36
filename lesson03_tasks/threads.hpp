// threads: being written.
#pragma once
