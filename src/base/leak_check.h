// A leak check for processes that leave through _exit (the forked daemon), which skips the one
// LeakSanitizer makes at exit. In a -DSHIM_SANITIZE=ON build it reports leaks now and ends the
// process with LeakSanitizer's exit code if there are any; in any other build it does nothing.
#pragma once

namespace shim {

void check_for_leaks();

}  // namespace shim
