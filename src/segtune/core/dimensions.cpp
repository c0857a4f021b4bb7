#include "segtune/core/dimensions.h"

#include <cctype>

#include "segtune/core/error.h"

namespace segtune {
namespace {

// Digits only, at most `max`; -1 otherwise. Stops before overflow instead of relying on stoll.
int64_t ParseSide(const std::string& digits, int64_t max) {
  if (digits.empty()) return -1;
  int64_t value = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
    value = value * 10 + (c - '0');
    if (value > max) return -1;
  }
  return value;
}

}  // namespace

std::pair<int64_t, int64_t> ParseTwoDimensions(const std::string& text, const std::string& option,
                                               const std::string& form, int64_t max) {
  const size_t x = text.find_first_of("xX");
  const int64_t a = x == std::string::npos ? -1 : ParseSide(text.substr(0, x), max);
  const int64_t b = x == std::string::npos ? -1 : ParseSide(text.substr(x + 1), max);
  if (a < 1 || b < 1) {
    throw UsageError(option + " " + text + ": expected " + form + " with each side 1 to " + std::to_string(max) +
                     ", e.g. 512x512");
  }
  return {a, b};
}

}  // namespace segtune
