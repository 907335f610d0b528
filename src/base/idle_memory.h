// Giving memory back when the shim falls idle. A static shim's RSS is mostly its own text
// faulted in 64 KiB at a time while it worked; those pages are clean copies of the binary,
// so dropping them from our page tables costs nothing but a re-fault if they are needed again.
#pragma once

namespace shim {

// Drops the pages of the executable's read-only segments from this process (never a writable
// or RELRO segment: those hold relocated data) and returns free heap to the kernel.
void release_idle_memory();

}  // namespace shim
