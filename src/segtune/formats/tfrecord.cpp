#include "segtune/formats/tfrecord.h"

#include <fcntl.h>
#include <glob.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/formats/crc32c.h"
#include "segtune/formats/shard_set.h"

namespace segtune {
namespace {

constexpr size_t kHeaderBytes = 12;
constexpr size_t kFooterBytes = 4;
constexpr size_t kBufferBytes = 1 << 20;
constexpr size_t kWriteChunkBytes = 1 << 20;
constexpr size_t kWritebackBytes = 2 << 20;
constexpr int kNone = 0, kZlib = 1, kGzip = 2;

void PutLe64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = char(v >> (8 * i));
}
void PutLe32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = char(v >> (8 * i));
}
uint64_t GetLe64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}
uint32_t GetLe32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

bool HeaderIsValid(const char* header) {
  return MaskCrc(Crc32cExtend(0, header, 8)) == GetLe32(header + 8);
}

// TF compresses the whole stream; a zlib stream starts with CMF/FLG (deflate, checksum % 31 == 0),
// a gzip stream with 1f 8b. Only consulted when the bytes are not a valid record header.
int DetectCompression(const unsigned char* b, size_t n) {
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return kGzip;
  if (n >= 2 && (b[0] & 0x0f) == 8 && ((b[0] << 8) | b[1]) % 31 == 0) return kZlib;
  return kNone;
}

}  // namespace

// ---- writer ------------------------------------------------------------------------------------

TFRecordWriter::TFRecordWriter(const std::filesystem::path& path)
    : path_(path), atomic_(std::make_unique<AtomicFile>(path)) {}

TFRecordWriter::TFRecordWriter(const std::filesystem::path& path, Direct) : path_(path) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  direct_.open(path, std::ios::binary | std::ios::app);
  if (!direct_) throw IoError(path, "cannot open for writing");
  flush_each_record_ = true;
}

std::unique_ptr<TFRecordWriter> TFRecordWriter::OpenAppendable(const std::filesystem::path& path) {
  return std::unique_ptr<TFRecordWriter>(new TFRecordWriter(path, Direct{}));
}

TFRecordWriter::~TFRecordWriter() {
  if (!atomic_ && !closed_) {
    try {
      Close();
    } catch (...) {  // Destructors must not throw; an explicit Close() reports the error.
    }
  }
}

std::ostream& TFRecordWriter::out() { return atomic_ ? atomic_->stream() : direct_; }

void TFRecordWriter::Write(std::string_view record) {
  if (closed_) throw Error(path_.string() + ": TFRecordWriter::Write after Close");
  char header[kHeaderBytes];
  PutLe64(header, record.size());
  PutLe32(header + 8, MaskCrc(Crc32cExtend(0, header, 8)));
  char footer[kFooterBytes];
  PutLe32(footer, MaskCrc(Crc32c(record)));
  Append({header, kHeaderBytes});
  Append(record);
  Append({footer, kFooterBytes});
  EndRecord();
}

void TFRecordWriter::WriteFramed(std::string_view framed) {
  if (closed_) throw Error(path_.string() + ": TFRecordWriter::WriteFramed after Close");
  Append(framed);
  EndRecord();
}

// std::filebuf sends every write of 1 KiB or more straight to the kernel (one writev per record of
// a converted dataset: 5,000 calls for 5,000 images). Records are gathered here instead and written
// kWriteChunkBytes at a time; a record that large on its own goes out as it is.
void TFRecordWriter::Append(std::string_view bytes) {
  if (pending_.size() + bytes.size() < kWriteChunkBytes) {
    pending_.append(bytes.data(), bytes.size());
    return;
  }
  WritePending();
  if (bytes.size() >= kWriteChunkBytes) {
    WriteToStream(bytes);
  } else {
    pending_.append(bytes.data(), bytes.size());
  }
}

void TFRecordWriter::WritePending() {
  if (pending_.empty()) return;
  WriteToStream(pending_);
  pending_.clear();
}

void TFRecordWriter::WriteToStream(std::string_view bytes) {
  out().write(bytes.data(), std::streamsize(bytes.size()));
  if (!out()) throw IoError(path_, "write failed");
  unsynced_bytes_ += bytes.size();
  if (atomic_ && unsynced_bytes_ >= kWritebackBytes) {  // Close()'s fsync then waits for less.
    atomic_->StartWriteback();
    unsynced_bytes_ = 0;
  }
}

void TFRecordWriter::EndRecord() {
  ++records_;
  if (flush_each_record_) Flush();
}

void FinishTFRecordFrame(std::string* buffer) {
  static_assert(kTFRecordHeaderBytes == kHeaderBytes, "one TFRecord header size");
  if (buffer->size() < kHeaderBytes) throw Error("FinishTFRecordFrame: buffer lacks the header bytes");
  const std::string_view data(buffer->data() + kHeaderBytes, buffer->size() - kHeaderBytes);
  char footer[kFooterBytes];
  PutLe32(footer, MaskCrc(Crc32c(data)));
  char* header = buffer->data();
  PutLe64(header, data.size());
  PutLe32(header + 8, MaskCrc(Crc32cExtend(0, header, 8)));
  buffer->append(footer, kFooterBytes);
}

void TFRecordWriter::Flush() {
  if (closed_) return;
  WritePending();
  out().flush();
  if (!out()) throw IoError(path_, "flush failed");
}

void TFRecordWriter::Close() {
  if (closed_) return;
  WritePending();
  closed_ = true;
  if (atomic_) {
    atomic_->Commit();
  } else {
    direct_.close();
    if (direct_.fail()) throw IoError(path_, "close failed");
  }
}

// ---- reader ------------------------------------------------------------------------------------

// Bytes of the file, decompressed if needed.
class TFRecordReader::Source {
 public:
  Source(const std::filesystem::path& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) throw IoError(path, "cannot open");
    std::setvbuf(file_, nullptr, _IOFBF, kBufferBytes);
  }
  ~Source() {
    if (compression_ != kNone) inflateEnd(&zs_);
    if (file_) std::fclose(file_);
  }

  // Looks at the first bytes and switches to decompression if the file is a zlib/gzip stream.
  int Detect() {
    unsigned char head[kHeaderBytes];
    const size_t n = std::fread(head, 1, sizeof head, file_);
    std::rewind(file_);
    if (n == kHeaderBytes && HeaderIsValid(reinterpret_cast<const char*>(head))) return kNone;
    compression_ = DetectCompression(head, n);
    if (compression_ != kNone) {
      std::memset(&zs_, 0, sizeof zs_);
      // 15 window bits; +16 gzip only, +0 zlib only.
      if (inflateInit2(&zs_, compression_ == kGzip ? 15 + 16 : 15) != Z_OK) {
        throw FormatError(path_, "", "cannot initialise zlib");
      }
      in_.resize(kBufferBytes);
      out_.resize(kOutBufferBytes);
    }
    return compression_;
  }

  // Reads up to n bytes; fewer only at end of stream.
  size_t Read(char* buf, size_t n) {
    if (compression_ == kNone) {
      const size_t got = std::fread(buf, 1, n, file_);
      if (got < n && std::ferror(file_)) throw IoError(path_, "read failed");
      return got;
    }
    // Small reads (headers, footers, the resync scan's single bytes) are served from a buffer of
    // decompressed bytes; large ones decompress straight into the caller's memory.
    size_t total = 0;
    while (total < n) {
      if (out_pos_ < out_end_) {
        const size_t take = std::min(n - total, out_end_ - out_pos_);
        std::memcpy(buf + total, out_.data() + out_pos_, take);
        out_pos_ += take;
        total += take;
        continue;
      }
      if (n - total >= out_.size()) {
        const size_t got = Inflate(buf + total, n - total);
        total += got;
        if (got == 0) break;
        continue;
      }
      out_pos_ = 0;
      out_end_ = Inflate(out_.data(), out_.size());
      if (out_end_ == 0) break;
    }
    return total;
  }

 private:
  static constexpr size_t kOutBufferBytes = 256 << 10;
  // zlib counts in 32-bit uInt: at most this much per inflate() call.
  static constexpr size_t kMaxInflateChunk = size_t(1) << 30;

  // Fills buf with up to n decompressed bytes; fewer only at the end of the (possibly truncated)
  // stream.
  size_t Inflate(char* buf, size_t n) {
    size_t done = 0;
    while (done < n && !stream_end_) {
      if (zs_.avail_in == 0) {
        const size_t got = std::fread(in_.data(), 1, in_.size(), file_);
        if (got == 0) {  // Compressed stream truncated: the caller reports a short record.
          if (std::ferror(file_)) throw IoError(path_, "read failed");
          break;
        }
        zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
        zs_.avail_in = uInt(got);
      }
      const uInt chunk = uInt(std::min(n - done, kMaxInflateChunk));
      zs_.next_out = reinterpret_cast<Bytef*>(buf + done);
      zs_.avail_out = chunk;
      const uInt in_before = zs_.avail_in;
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      done += chunk - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        stream_end_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw FormatError(path_, "compressed stream", std::string("zlib error: ") + (zs_.msg ? zs_.msg : "corrupt data"));
      } else if (zs_.avail_out == chunk && zs_.avail_in == in_before && zs_.avail_in > 0) {
        throw FormatError(path_, "compressed stream", "zlib made no progress (corrupt data)");
      }
    }
    return done;
  }

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  int compression_ = kNone;
  z_stream zs_{};
  std::string in_;
  std::string out_;  // Decompressed bytes not yet returned: out_[out_pos_, out_end_).
  size_t out_pos_ = 0, out_end_ = 0;
  bool stream_end_ = false;
};

TFRecordReader::TFRecordReader(const std::filesystem::path& path, TFRecordReaderOptions options)
    : path_(path), options_(options), source_(std::make_unique<Source>(path)) {
  compression_ = source_->Detect();
  if (compression_ == kNone) file_size_ = std::filesystem::file_size(path);
}

TFRecordReader::~TFRecordReader() = default;

size_t TFRecordReader::ReadFully(char* buf, size_t n) {
  size_t total = 0;
  if (pending_pos_ < pending_.size()) {  // Bytes the resync scan read past the header it found.
    total = std::min(n, pending_.size() - pending_pos_);
    std::memcpy(buf, pending_.data() + pending_pos_, total);
    pending_pos_ += total;
  }
  while (total < n) {
    const size_t got = source_->Read(buf + total, n - total);
    if (got == 0) break;
    total += got;
  }
  offset_ += total;
  return total;
}

// An uncompressed record's length is already checked against the file size, so its buffer is
// sized at once. A compressed stream's length field is only a claim: the buffer grows with the
// bytes that actually arrive, so a short stream claiming gigabytes costs only what it holds.
bool TFRecordReader::ReadData(std::string* record, uint64_t length) {
  if (compression_ == kNone) {
    record->resize(length);
    return ReadFully(record->data(), length) == length;
  }
  constexpr uint64_t kChunk = 4 << 20;
  record->clear();
  while (record->size() < length) {
    const size_t have = record->size();
    const size_t want = size_t(std::min<uint64_t>(length - have, std::max<uint64_t>(kChunk, have)));
    record->resize(have + want);
    const size_t got = ReadFully(record->data() + have, want);
    if (got < want) {
      record->resize(have + got);
      return false;
    }
  }
  return true;
}

bool TFRecordReader::Discard(uint64_t n) {
  char scratch[64 << 10];
  while (n > 0) {
    const size_t want = size_t(std::min<uint64_t>(n, sizeof scratch));
    if (ReadFully(scratch, want) < want) return false;
    n -= want;
  }
  return true;
}

uint64_t TFRecordReader::RemainingBytes() const {
  if (compression_ != kNone) return UINT64_MAX;  // The stream length is unknown.
  return file_size_ > offset_ + kFooterBytes ? file_size_ - offset_ - kFooterBytes : 0;
}

uint64_t TFRecordReader::MaxRecordBytes() const { return std::min(RemainingBytes(), options_.max_record_bytes); }

uint64_t TFRecordReader::MaxRecordBytesAt(uint64_t data_offset) const {
  if (compression_ != kNone) return options_.max_record_bytes;
  const uint64_t remaining = file_size_ > data_offset + kFooterBytes ? file_size_ - data_offset - kFooterBytes : 0;
  return std::min(remaining, options_.max_record_bytes);
}

namespace {

std::string Bytes(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

void TFRecordReader::Fail(uint64_t offset, const std::string& what) {
  throw FormatError(path_, "record " + WithCommas(next_index_) + " at byte " + Bytes(offset),
                    what + (options_.skip_corrupt ? "" : "; rerun with --skip-corrupt to continue past it"));
}

bool TFRecordReader::Report(uint64_t offset, const std::string& what) {
  if (!options_.skip_corrupt) Fail(offset, what);
  const std::string message =
      path_.string() + ": record " + WithCommas(next_index_) + " at byte " + Bytes(offset) + ": " + what + " (skipped)";
  problems_.push_back(message);
  Warn(message);
  return true;
}

// After a corrupt length header: looks at every later byte position for a header whose CRC matches
// (and whose length the limit and the file allow), scanning a buffer a chunk at a time; the bytes
// read past the header found are handed back to ReadFully. The corrupt header began a record of at
// most max_record_bytes, so the next intact header starts within max_record_bytes + 16 bytes of it;
// the scan stops there rather than crawl through the rest of a damaged (or hostile, endlessly
// decompressing) stream. Returns false at end of file or when the scan gives up (reported).
bool TFRecordReader::Resync(char header[12], uint64_t bad_header_offset) {
  constexpr size_t kScanChunk = 256 << 10;
  const uint64_t window = options_.max_record_bytes + kHeaderBytes + kFooterBytes;
  std::string buf(header + 1, kHeaderBytes - 1);  // The bad header's start is not a header.
  for (;;) {
    if (offset_ - bad_header_offset > window) {
      Report(bad_header_offset, "no intact record header within " + Bytes(window) +
                                    " bytes after a corrupt one (the longest record --max-record-bytes allows); "
                                    "the rest of the file is not read");
      return false;
    }
    const size_t old = buf.size();
    buf.resize(old + kScanChunk);
    const size_t got = ReadFully(buf.data() + old, kScanChunk);
    buf.resize(old + got);
    for (size_t p = 0; p + kHeaderBytes <= buf.size(); ++p) {
      const uint64_t data_offset = offset_ - (buf.size() - p - kHeaderBytes);  // Where its data would start.
      if (GetLe64(buf.data() + p) > MaxRecordBytesAt(data_offset) || !HeaderIsValid(buf.data() + p)) continue;
      std::memcpy(header, buf.data() + p, kHeaderBytes);
      pending_.assign(buf, p + kHeaderBytes, std::string::npos);
      pending_pos_ = 0;
      offset_ -= pending_.size();
      return true;
    }
    if (got == 0) return false;
    buf.erase(0, buf.size() - (kHeaderBytes - 1));
  }
}

bool TFRecordReader::Next(std::string* record) {
  char header[kHeaderBytes];
  uint64_t start = offset_;
  size_t got = ReadFully(header, kHeaderBytes);
  for (;;) {
    if (got == 0) return false;
    if (got < kHeaderBytes) {
      Report(start, "truncated: file ends inside a record header (" + std::to_string(got) + " of 12 bytes)");
      return false;
    }
    if (!HeaderIsValid(header)) {
      Report(start, "length CRC mismatch (file truncated or corrupted)");
      ++next_index_;
      if (!Resync(header, start)) return false;
      start = offset_ - kHeaderBytes;
      continue;
    }
    const uint64_t length = GetLe64(header);
    if (length > RemainingBytes()) {  // Passed its CRC, but the file is too short to hold it.
      Report(start, "truncated: record of " + Bytes(length) + " bytes, but the file ends at byte " + Bytes(file_size_));
      return false;
    }
    if (length > options_.max_record_bytes) {
      // Skipping means streaming past the record without holding it. In a compressed file that costs
      // decompressing it: done only up to 4x the limit, so a bomb's endless zeros are not inflated.
      const bool can_skip = compression_ == kNone || length / 4 <= options_.max_record_bytes;
      Report(start, "record of " + Bytes(length) + " bytes is larger than the limit of " +
                        DescribeLimit(options_.max_record_bytes) +
                        " bytes (a corrupt or hostile length field, or a huge record: if the file is trusted, "
                        "raise the limit with --max-record-bytes)" +
                        (options_.skip_corrupt && !can_skip
                             ? "; the rest of the file is not read (skipping the record would mean decompressing it)"
                             : ""));
      if (!can_skip || !Discard(length + kFooterBytes)) return false;  // A short stream was reported above.
      ++next_index_;
      start = offset_;
      got = ReadFully(header, kHeaderBytes);
      continue;
    }
    char footer[kFooterBytes];
    const bool data_complete = ReadData(record, length);
    const size_t footer_got = data_complete ? ReadFully(footer, kFooterBytes) : 0;
    if (!data_complete || footer_got < kFooterBytes) {
      Report(start, "truncated: record of " + Bytes(length) + " bytes, but the file ends at byte " + Bytes(offset_));
      return false;
    }
    if (MaskCrc(Crc32c(*record)) != GetLe32(footer)) {
      Report(start, "data CRC mismatch (file truncated or corrupted)");
      ++next_index_;
      start = offset_;
      got = ReadFully(header, kHeaderBytes);
      continue;
    }
    last_index_ = next_index_++;
    last_offset_ = start;
    return true;
  }
}

std::vector<std::string> ReadAllRecords(const std::filesystem::path& path) {
  TFRecordReader reader(path);
  std::vector<std::string> records;
  std::string record;
  while (reader.Next(&record)) records.push_back(record);
  return records;
}

// ---- random access -----------------------------------------------------------------------------

TFRecordRandomReader::TFRecordRandomReader(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw IoError(path, std::string("cannot open: ") + std::strerror(errno));
}

TFRecordRandomReader::~TFRecordRandomReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::string TFRecordRandomReader::Read(const TFRecordLocation& where) const {
  // Data and footer in one read; the footer's 4 bytes are cut off after the check.
  std::string data(where.length + kFooterBytes, '\0');
  size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::pread(fd_, data.data() + got, data.size() - got,
                              static_cast<off_t>(where.offset + kHeaderBytes + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError(path_, std::string("read failed: ") + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  const std::string place = "record " + WithCommas(where.index) + " at byte " +
                            WithCommas(static_cast<long long>(where.offset));
  if (got < data.size()) throw FormatError(path_, place, "file ends inside the record (changed since it was indexed?)");
  const uint32_t footer = GetLe32(data.data() + where.length);
  data.resize(where.length);
  if (MaskCrc(Crc32c(data)) != footer) {
    throw FormatError(path_, place, "data CRC mismatch (file changed or corrupted since it was indexed)");
  }
  return data;
}

// ---- shard names -------------------------------------------------------------------------------

std::string ShardPath(const std::string& prefix, int i, int n) {
  char suffix[40];
  std::snprintf(suffix, sizeof suffix, "-%05d-of-%05d", i, n);
  return prefix + suffix;
}

namespace {

std::vector<std::filesystem::path> Glob(const std::string& pattern) {
  glob_t g{};
  std::vector<std::filesystem::path> out;
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      const std::filesystem::path path = g.gl_pathv[i];
      if (!std::filesystem::is_regular_file(path)) continue;
      if (IsStaleTempName(path.filename().string())) {  // Half-written by a killed run: never data.
        Warn(pattern + ": ignoring " + path.string() + ", a temporary file left by an interrupted segtune run; "
             "delete it");
        continue;
      }
      out.push_back(path);
    }
  }
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::filesystem::path> ExpandOne(const std::string& item) {
  const size_t at = item.rfind('@');
  if (at != std::string::npos && at + 1 < item.size() &&
      std::all_of(item.begin() + at + 1, item.end(), [](char c) { return std::isdigit(uint8_t(c)); })) {
    const int n = std::stoi(item.substr(at + 1));
    std::vector<std::filesystem::path> out;
    for (int i = 0; i < n; ++i) out.emplace_back(ShardPath(item.substr(0, at), i, n));
    for (const auto& p : out) {
      if (!std::filesystem::exists(p)) throw IoError(item + ": shard " + p.string() + " does not exist");
    }
    return out;
  }
  if (item.find_first_of("*?[") != std::string::npos) {
    auto out = Glob(item);
    if (out.empty()) throw IoError(item + ": no file matches this pattern");
    CheckShardSets(out, item);
    return out;
  }
  if (std::filesystem::exists(item)) return {item};
  auto shards = Glob(item + "-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]");
  CheckShardSets(shards, item);
  if (!shards.empty()) return shards;
  throw IoError(item + ": no such file (nor shards " + item + "-NNNNN-of-NNNNN)");
}

}  // namespace

std::vector<std::filesystem::path> ExpandInputPaths(const std::string& pattern) {
  std::vector<std::filesystem::path> out;
  size_t begin = 0;
  while (begin <= pattern.size()) {
    size_t end = pattern.find(',', begin);
    if (end == std::string::npos) end = pattern.size();
    const std::string item = pattern.substr(begin, end - begin);
    if (!item.empty()) {
      auto paths = ExpandOne(item);
      out.insert(out.end(), paths.begin(), paths.end());
    }
    begin = end + 1;
  }
  if (out.empty()) throw UsageError("no input paths given");
  return out;
}

}  // namespace segtune
