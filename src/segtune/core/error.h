// Error types. Every error names what failed (a file, a record, a line) and what was expected, so a
// person can act on it; the CLI prints what() after "segtune: error: " and exits 1 (2 for UsageError).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace segtune {

// Base of every error segtune throws on purpose.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A command line that cannot be run as written (unknown option, bad value). Exit code 2.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message) {}
};

// Input that does not have the expected format: "<file>: <where>: <what was expected>".
class FormatError : public Error {
 public:
  explicit FormatError(const std::string& message) : Error(message) {}
  FormatError(const std::filesystem::path& file, const std::string& where, const std::string& what)
      : Error(file.string() + ": " + (where.empty() ? "" : where + ": ") + what) {}
};

// A file or network operation that failed: "<path>: <what> (<reason>)".
class IoError : public Error {
 public:
  explicit IoError(const std::string& message) : Error(message) {}
  IoError(const std::filesystem::path& path, const std::string& what);  // Appends strerror(errno).
};

}  // namespace segtune
