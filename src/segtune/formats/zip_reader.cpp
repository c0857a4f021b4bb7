#include "segtune/formats/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <set>

#include "segtune/core/error.h"

namespace segtune {
namespace {

constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr uint32_t kDirectoryEntry = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kU32Max = 0xffffffffu;

// Little-endian fields; the caller has checked that `at + n` is inside `b`.
uint64_t LE(std::string_view b, uint64_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t(uint8_t(b[at + i])) << (8 * i);
  return v;
}

bool Fits(std::string_view b, uint64_t at, uint64_t n) { return at <= b.size() && n <= b.size() - at; }

uint32_t Crc32(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(data.data());
  for (size_t done = 0; done < data.size();) {  // zlib takes 32-bit lengths.
    const uInt n = uInt(std::min<size_t>(data.size() - done, 1u << 30));
    crc = crc32(crc, p + done, n);
    done += n;
  }
  return uint32_t(crc);
}

}  // namespace

ZipReader::ZipReader(std::string_view bytes, const std::filesystem::path& path) : bytes_(bytes), path_(path) {
  ReadDirectory();
}

void ZipReader::Fail(const std::string& what) const {
  throw FormatError(path_, "zip", "corrupt or truncated archive: " + what);
}

void ZipReader::ReadDirectory() {
  const std::string_view b = bytes_;
  if (b.size() < 22) Fail("no end of central directory record");
  // The record is the last 22 bytes plus a comment of at most 65,535 bytes.
  uint64_t eocd = UINT64_MAX;
  for (uint64_t at = b.size() - 22 + 1; at-- > 0 && b.size() - at <= 22 + 65535;) {
    if (LE(b, at, 4) == kEndOfDirectory) {
      eocd = at;
      break;
    }
  }
  if (eocd == UINT64_MAX) Fail("no end of central directory record");
  uint64_t count = LE(b, eocd + 10, 2);
  uint64_t directory_size = LE(b, eocd + 12, 4);
  uint64_t directory = LE(b, eocd + 16, 4);
  if (count == 0xffff || directory_size == kU32Max || directory == kU32Max) {  // zip64: the real values are elsewhere.
    if (eocd < 20 || LE(b, eocd - 20, 4) != kZip64Locator) Fail("zip64 end of central directory locator missing");
    const uint64_t at = LE(b, eocd - 20 + 8, 8);
    if (!Fits(b, at, 56) || LE(b, at, 4) != kZip64EndOfDirectory) Fail("zip64 end of central directory record missing");
    count = LE(b, at + 32, 8);
    directory_size = LE(b, at + 40, 8);
    directory = LE(b, at + 48, 8);
  }
  if (!Fits(b, directory, directory_size)) Fail("central directory lies outside the file");
  if (count > directory_size / 46) Fail(std::to_string(count) + " entries cannot fit a " + std::to_string(directory_size) + "-byte directory");
  if (count == 0) Fail("archive does not contain any files");
  std::set<std::string> names;
  uint64_t at = directory;
  for (uint64_t i = 0; i < count; ++i) {
    if (!Fits(b, at, 46) || LE(b, at, 4) != kDirectoryEntry) Fail("central directory entry " + std::to_string(i) + " is damaged");
    const uint64_t name_len = LE(b, at + 28, 2), extra_len = LE(b, at + 30, 2), comment_len = LE(b, at + 32, 2);
    if (!Fits(b, at + 46, name_len + extra_len)) Fail("central directory entry " + std::to_string(i) + " runs past the end");
    ZipEntry e;
    e.name = std::string(b.substr(at + 46, name_len));
    const uint64_t flags = LE(b, at + 8, 2);
    e.method = uint16_t(LE(b, at + 10, 2));
    e.crc = uint32_t(LE(b, at + 16, 4));
    e.compressed = LE(b, at + 20, 4);
    e.uncompressed = LE(b, at + 24, 4);
    e.local_header = LE(b, at + 42, 4);
    // The zip64 extra field (id 1) holds, in this order, each of these that is 0xffffffff above.
    for (uint64_t x = at + 46 + name_len; x + 4 <= at + 46 + name_len + extra_len;) {
      const uint64_t id = LE(b, x, 2), size = LE(b, x + 2, 2);
      const uint64_t end = x + 4 + size;
      if (end > at + 46 + name_len + extra_len) break;
      if (id == 1) {
        uint64_t field = x + 4;
        for (uint64_t* value : {&e.uncompressed, &e.compressed, &e.local_header}) {
          if (*value != kU32Max) continue;
          if (field + 8 > end) Fail("entry '" + e.name + "' has a short zip64 extra field");
          *value = LE(b, field, 8);
          field += 8;
        }
      }
      x = end;
    }
    if (flags & 1) Fail("entry '" + e.name + "' is encrypted");
    if (e.method != 0 && e.method != 8) Fail("entry '" + e.name + "' uses compression method " + std::to_string(e.method) + " (expected stored or deflate)");
    if (!names.insert(e.name).second) Fail("entry '" + e.name + "' appears twice in the directory");
    entries_.push_back(std::move(e));
    at += 46 + name_len + extra_len + comment_len;
  }
}

const ZipEntry* ZipReader::Find(const std::string& name) const {
  for (const ZipEntry& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::string_view ZipReader::Read(const ZipEntry& e, const std::string& where, std::string* scratch) const {
  const std::string_view b = bytes_;
  auto fail = [&](const std::string& what) { throw FormatError(path_, where, what + " (corrupt or truncated zip)"); };
  if (!Fits(b, e.local_header, 30) || LE(b, e.local_header, 4) != kLocalHeader) fail("local header missing");
  const uint64_t data = e.local_header + 30 + LE(b, e.local_header + 26, 2) + LE(b, e.local_header + 28, 2);
  if (!Fits(b, data, e.compressed)) fail("data runs past the end of the file");
  std::string_view content = b.substr(data, e.compressed);
  if (e.method == 0) {
    if (e.uncompressed != e.compressed) fail("stored entry declares " + std::to_string(e.uncompressed) + " bytes but holds " + std::to_string(e.compressed));
  } else {
    scratch->assign(e.uncompressed, '\0');
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw FormatError(path_, where, "zlib could not start inflating");
    int status = Z_OK;
    uint64_t in_done = 0, out_done = 0;
    while (status == Z_OK) {  // zlib's counters are 32-bit: feed it in chunks.
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(content.data() + in_done));
      z.avail_in = uInt(std::min<uint64_t>(content.size() - in_done, 1u << 30));
      z.next_out = reinterpret_cast<Bytef*>(scratch->data() + out_done);
      z.avail_out = uInt(std::min<uint64_t>(scratch->size() - out_done, 1u << 30));
      const uInt in_before = z.avail_in, out_before = z.avail_out;
      status = inflate(&z, Z_NO_FLUSH);
      in_done += in_before - z.avail_in;
      out_done += out_before - z.avail_out;
      if (status == Z_OK && in_before == z.avail_in && out_before == z.avail_out) status = Z_BUF_ERROR;  // No progress.
    }
    inflateEnd(&z);
    if (status != Z_STREAM_END || out_done != e.uncompressed) {
      fail("deflate stream is corrupt or does not inflate to the declared " + std::to_string(e.uncompressed) + " bytes");
    }
    content = *scratch;
  }
  if (Crc32(content) != e.crc) throw FormatError(path_, where, "CRC-32 mismatch (file corrupted); download or copy it again");
  return content;
}

}  // namespace segtune
