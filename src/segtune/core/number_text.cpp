#include "segtune/core/number_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace segtune {

bool ParseFiniteDouble(std::string_view text, double* value) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) return false;  // "+-1" is no number.
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(*value);
}

namespace {

// The fast case of WriteShortestDouble, or nullptr. In [0.001, 100000) distinct 6-decimal numbers are
// distinct doubles (their spacing 1e-6 is far above the doubles' 1.5e-11), so when the double nearest
// round(a * 1e6) / 1e6 is `a`, that decimal is the only one of at most 6 decimals reading back as `a`,
// and the shortest text (which then has at most 6 decimals too) is its digits. In that range the fixed
// form is never longer than the exponent form (a tie, "10000" against "1e+04", goes to fixed, as
// to_chars does). NumberText.ShortestDoubleMatchesToChars checks both against to_chars.
char* WriteShortDecimal(char* out, double value) {
  const double a = std::fabs(value);
  if (!(a >= 1e-3 && a < 1e5)) return nullptr;
  const double scaled = std::nearbyint(a * 1e6);
  if (scaled / 1e6 != a) return nullptr;
  auto digits = static_cast<uint64_t>(scaled);  // <= 1e11.
  int decimals = 6;
  while (decimals > 0 && digits % 10 == 0) {
    digits /= 10;
    --decimals;
  }
  char text[24];
  char* end = std::to_chars(text, text + sizeof text, digits).ptr;
  const int length = static_cast<int>(end - text);
  if (value < 0) *out++ = '-';
  if (length <= decimals) {  // 0.00ddd
    *out++ = '0';
    *out++ = '.';
    for (int k = length; k < decimals; ++k) *out++ = '0';
    for (int k = 0; k < length; ++k) *out++ = text[k];
    return out;
  }
  for (int k = 0; k < length - decimals; ++k) *out++ = text[k];
  if (decimals > 0) {
    *out++ = '.';
    for (int k = length - decimals; k < length; ++k) *out++ = text[k];
  }
  return out;
}

}  // namespace

char* WriteShortestDouble(char* out, double value) {
  if (char* end = WriteShortDecimal(out, value)) return end;
  return std::to_chars(out, out + 32, value).ptr;
}

}  // namespace segtune
