#include "base/leak_check.h"

#if defined(__SANITIZE_ADDRESS__)
#define SHIM_HAS_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define SHIM_HAS_LSAN 1
#endif
#endif

#if defined(SHIM_HAS_LSAN)
#include <sanitizer/lsan_interface.h>
#endif

namespace shim {

void check_for_leaks() {
#if defined(SHIM_HAS_LSAN)
  __lsan_do_leak_check();
#endif
}

}  // namespace shim
