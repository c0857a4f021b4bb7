// Atomic outputs: everything is written to a temporary sibling and renamed into place on Commit(),
// so an interrupted run never leaves a half-written file (or directory) that looks whole.
#pragma once

#include <filesystem>
#include <optional>
#include <fstream>
#include <string>
#include <string_view>

namespace segtune {

// A file being written. Destroying it without Commit() deletes the temporary file.
class AtomicFile {
 public:
  // Creates missing parent directories. Throws IoError if the temporary cannot be created.
  explicit AtomicFile(std::filesystem::path path, bool binary = true);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream() { return out_; }
  void Write(std::string_view bytes);
  // Asks the OS to start writing what was written so far to the disk, without waiting for it, so
  // that Commit()'s fsync has less left to wait for. For large outputs written piece by piece.
  void StartWriteback();
  // Flushes, fsyncs and renames onto the final path. Throws IoError on any failure.
  void Commit();
  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_;
  std::ofstream out_;
  int sync_fd_ = -1;  // The temporary, opened again for StartWriteback() and Commit()'s fsync.
  bool committed_ = false;
};

// Writes `bytes` to `path` atomically.
void WriteFileAtomic(const std::filesystem::path& path, std::string_view bytes);
// Reads a whole file. Throws IoError naming the path if it cannot be read.
std::string ReadFile(const std::filesystem::path& path);
// As ReadFile, but nullopt when the file does not exist (one system call less than checking first,
// for optional files such as YOLO label files). Other failures still throw IoError.
std::optional<std::string> ReadFileIfExists(const std::filesystem::path& path);
// The bytes of `path` if it is a readable file of at most `max_bytes`; nullopt otherwise (missing,
// unreadable, larger). For "is this a file segtune wrote?" checks (output_guard.h), which must not
// read a large file someone else left under the output's name.
std::optional<std::string> ReadSmallFile(const std::filesystem::path& path, uintmax_t max_bytes);

// A directory being built (e.g. an export). Files go into temp_path(); Commit() renames it onto
// path, replacing an existing directory only after the new one is complete.
class AtomicDirectory {
 public:
  explicit AtomicDirectory(std::filesystem::path path);  // Throws IoError if not creatable.
  ~AtomicDirectory();                                    // Removes the temp dir unless committed.
  AtomicDirectory(const AtomicDirectory&) = delete;
  AtomicDirectory& operator=(const AtomicDirectory&) = delete;

  const std::filesystem::path& temp_path() const { return temp_; }
  void Commit();

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_;
  bool committed_ = false;
};

}  // namespace segtune
