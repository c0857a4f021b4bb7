// File names derived from input data (a record's image/source_id, a COCO file_name, a URL) that
// become files inside a directory the user named. Such a name is attacker-controlled: "../../x",
// "/etc/x", ".bashrc" or a terminal escape must never reach the file system as written.
#pragma once

#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace segtune {

// Longest name handed out, in bytes. Leaves room under NAME_MAX (255) for a uniqueness suffix, an
// added extension and AtomicFile's ".tmp-PID-N" temporary suffix.
constexpr size_t kMaxSafeNameBytes = 160;

// Returns one path component that is safe to create inside a directory: '/' and '\' become '_',
// control characters (C0, DEL, C1) and invalid UTF-8 become '_', leading '.' are dropped (no hidden
// files, no "." or ".."), a leading '-' becomes '_' (not an option to a shell command), and the
// result is cut to kMaxSafeNameBytes (keeping the extension, never inside a UTF-8 sequence). An
// empty result becomes `fallback` (itself sanitized; so "" only when fallback is "" too).
std::string SanitizeFileName(std::string_view raw, std::string_view fallback = "file");

// Hands out the names of the files written into one output directory: each name sanitized, and made
// unique ("a.jpg", "a_2.jpg", ...). Every name that differs from what the input asked for is
// reported with Warn() naming `source` (the first kShown of them; then one line saying more were
// renamed). Thread-safe.
class SafeNamer {
 public:
  static constexpr int kShown = 10;

  // `verb` prefixes the warnings, e.g. "records export".
  explicit SafeNamer(std::string verb) : verb_(std::move(verb)) {}

  // A safe, not yet handed out name for `raw`; `source` says where raw came from ("a.record:
  // record 3: image/source_id"). Never empty.
  std::string Name(std::string_view raw, const std::string& source, std::string_view fallback = "file");
  // True if `name` has been handed out or reserved.
  bool Taken(const std::string& name) const;
  // Marks `name` as taken without a warning (e.g. names already in the directory).
  void Reserve(const std::string& name);
  // Names that differed from the input's.
  int renamed() const;

 private:
  void Report(std::string_view raw, const std::string& name, const std::string& source, const char* why);

  std::string verb_;
  mutable std::mutex mutex_;
  std::set<std::string> taken_;
  int renamed_ = 0;
};

}  // namespace segtune
