#include "base/idle_memory.h"

#include <link.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace shim {
namespace {

int drop_readonly_segments(dl_phdr_info* info, size_t, void* data) {
  bool* done = static_cast<bool*>(data);
  if (*done) return 1;
  *done = true;  // the first object is the executable itself
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W)) continue;
    uintptr_t start = (info->dlpi_addr + ph.p_vaddr) & ~(page - 1);
    uintptr_t end = (info->dlpi_addr + ph.p_vaddr + ph.p_filesz) & ~(page - 1);
    // Only whole pages that lie inside the file-backed part of the segment.
    if (end > start) ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
  }
  return 1;
}

}  // namespace

void release_idle_memory() {
  ::malloc_trim(0);
  bool done = false;
  ::dl_iterate_phdr(drop_readonly_segments, &done);
}

}  // namespace shim
