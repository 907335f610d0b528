#include "runsc/features.h"

#include <cctype>

namespace shim {

RunscFeatures parse_runsc_version(std::string_view text) {
  RunscFeatures features;
  for (size_t i = 0; i + 8 <= text.size(); ++i) {
    if (i > 0 && std::isdigit(static_cast<unsigned char>(text[i - 1]))) continue;
    int date = 0;
    size_t n = 0;
    while (n < 8 && i + n < text.size() && std::isdigit(static_cast<unsigned char>(text[i + n]))) {
      date = date * 10 + (text[i + n] - '0');
      ++n;
    }
    bool eight =
        n == 8 && (i + 8 == text.size() || !std::isdigit(static_cast<unsigned char>(text[i + 8])));
    int month = date / 100 % 100, day = date % 100;
    if (eight && date / 1000000 == 20 && month >= 1 && month <= 12 && day >= 1 && day <= 31) {
      features.release_date = date;
      return features;
    }
  }
  return features;
}

}  // namespace shim
