// Reads zip archives held in memory (PKWARE APPNOTE: the end of central directory record, its zip64
// form, the central directory, local headers), for torch.save's .pth files (formats/pth_zip.h).
// Only what those need: stored and deflated entries, one disk, no encryption. Every entry's CRC-32
// is checked when it is read; every offset and size is checked against the buffer before use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace segtune {

// One file of the archive, as its central directory entry declares it.
struct ZipEntry {
  std::string name;  // The full name, folders included ("archive/data/0").
  uint16_t method = 0;  // 0 stored, 8 deflated.
  uint32_t crc = 0;
  uint64_t compressed = 0, uncompressed = 0;
  uint64_t local_header = 0;  // Offset of the entry's local header.
};

class ZipReader {
 public:
  // Reads the central directory of the archive `bytes` (which must outlive the reader). `path` only
  // names the file in errors. Throws FormatError naming the file and "zip" for: no end of central
  // directory record, a directory or entry outside the buffer, a bad signature, a name used twice,
  // an encrypted entry or a compression method other than stored or deflate.
  ZipReader(std::string_view bytes, const std::filesystem::path& path);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  // The entry named `name`, or nullptr.
  const ZipEntry* Find(const std::string& name) const;

  // The entry's bytes: a view into the archive for a stored entry; for a deflated one, inflated into
  // *scratch (at most entry.uncompressed bytes are allocated: bound those first) and a view of it.
  // `where` names the entry in errors. Throws FormatError for a bad local header, data outside the
  // file, a deflate stream that is corrupt or does not inflate to the declared size, or a CRC-32
  // that disagrees with the directory ("CRC-32 mismatch (file corrupted)").
  std::string_view Read(const ZipEntry& entry, const std::string& where, std::string* scratch) const;

 private:
  [[noreturn]] void Fail(const std::string& what) const;
  void ReadDirectory();

  std::string_view bytes_;
  std::filesystem::path path_;
  std::vector<ZipEntry> entries_;
};

}  // namespace segtune
