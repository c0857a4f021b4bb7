#include "segtune/core/safe_name.h"

#include "segtune/core/log.h"
#include "segtune/core/printable.h"

namespace segtune {
namespace {

constexpr size_t kMaxExtensionBytes = 16;  // A longer ".tail" is part of the stem when cutting.

// Splits at the last '.' that is not the first character: "a.tar.gz" -> ("a.tar", ".gz").
std::pair<std::string, std::string> SplitExtension(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0 || name.size() - dot > kMaxExtensionBytes) return {name, ""};
  return {name.substr(0, dot), name.substr(dot)};
}

// The longest prefix of `text` of at most `bytes` bytes that does not end inside a UTF-8 sequence.
std::string CutUtf8(const std::string& text, size_t bytes) {
  if (text.size() <= bytes) return text;
  size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// stem + suffix + ext cut to kMaxSafeNameBytes by shortening the stem.
std::string Join(const std::string& stem, const std::string& suffix, const std::string& ext) {
  const size_t room = kMaxSafeNameBytes - suffix.size() - ext.size();
  return CutUtf8(stem, room) + suffix + ext;
}

}  // namespace

std::string SanitizeFileName(std::string_view raw, std::string_view fallback) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    char32_t c = 0;
    const size_t n = Utf8SequenceAt(raw, i, &c);
    if (n == 0 || IsControlCodePoint(c) || c == '/' || c == '\\') {
      out += '_';
      i += n == 0 ? 1 : n;
      continue;
    }
    out.append(raw.substr(i, n));
    i += n;
  }
  const size_t first = out.find_first_not_of('.');  // No hidden files, no "." or "..".
  out.erase(0, first == std::string::npos ? out.size() : first);
  if (!out.empty() && out[0] == '-') out[0] = '_';
  if (out.empty()) return fallback.empty() ? "" : SanitizeFileName(fallback, "");
  if (out.size() > kMaxSafeNameBytes) {
    const auto [stem, ext] = SplitExtension(out);
    out = Join(stem, "", ext);
  }
  return out;
}

std::string SafeNamer::Name(std::string_view raw, const std::string& source, std::string_view fallback) {
  const std::string safe = SanitizeFileName(raw, fallback.empty() ? "file" : fallback);
  std::lock_guard<std::mutex> lock(mutex_);
  if (taken_.insert(safe).second) {
    if (safe != raw) Report(raw, safe, source, "unsafe as a file name");
    return safe;
  }
  const auto [stem, ext] = SplitExtension(safe);
  for (long long n = 2;; ++n) {
    const std::string candidate = Join(stem, "_" + std::to_string(n), ext);
    if (taken_.insert(candidate).second) {
      Report(raw, candidate, source, "already used by another output file");
      return candidate;
    }
  }
}

void SafeNamer::Reserve(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  taken_.insert(name);
}

bool SafeNamer::Taken(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return taken_.count(name) != 0;
}

int SafeNamer::renamed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return renamed_;
}

void SafeNamer::Report(std::string_view raw, const std::string& name, const std::string& source, const char* why) {
  ++renamed_;
  if (renamed_ <= kShown) {
    Warn(verb_ + ": " + EscapeForTerminal(source) + ": \"" + EscapeForTerminal(raw) + "\" is " + why +
         "; written as " + EscapeForTerminal(name));
  } else if (renamed_ == kShown + 1) {
    Warn(verb_ + ": more output files renamed; not listing them");
  }
}

}  // namespace segtune
