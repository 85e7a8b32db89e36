// taskgroups: being written.
#pragma once
