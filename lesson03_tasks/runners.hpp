// runners: being written.
#pragma once
