// TFRecord files: the framing TensorFlow uses for tf.train.Example datasets and TensorBoard events.
//
// Each record is: uint64 length (LE) | uint32 masked CRC32C of those 8 bytes | data | uint32 masked
// CRC32C of data. There is no file header. See docs/formats.md §1.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "segtune/core/input_limits.h"

namespace segtune {

class AtomicFile;

// Writes a TFRecord file.
//
//   TFRecordWriter writer("train.record");      // Atomic: nothing appears at the path until Close().
//   writer.Write(example.SerializeAsString());
//   writer.Close();                               // Throws IoError if the data cannot be written.
//
// A writer destroyed without Close() discards its temporary file (an interrupted conversion never
// leaves a partial dataset behind).
//
// For files that must be visible while they grow (TensorBoard event files), use OpenAppendable():
// it writes straight to the path (appending if it exists) and flushes after every record, so a
// reader polling the file sees each complete record as soon as Write() returns.
class TFRecordWriter {
 public:
  explicit TFRecordWriter(const std::filesystem::path& path);  // Throws IoError if not creatable.
  static std::unique_ptr<TFRecordWriter> OpenAppendable(const std::filesystem::path& path);
  ~TFRecordWriter();
  TFRecordWriter(const TFRecordWriter&) = delete;
  TFRecordWriter& operator=(const TFRecordWriter&) = delete;

  // Appends one record. Throws IoError on a write failure, Error if called after Close().
  void Write(std::string_view record);
  // Appends a record already framed by FinishTFRecordFrame (header, data, footer), as is.
  void WriteFramed(std::string_view framed);
  // Pushes buffered records to the OS (appendable writers do this after every Write()).
  void Flush();
  // Finishes the file (atomic writers rename it into place). Idempotent. Throws IoError.
  void Close();

  const std::filesystem::path& path() const { return path_; }
  int64_t records_written() const { return records_; }

 private:
  struct Direct {};
  TFRecordWriter(const std::filesystem::path& path, Direct);
  std::ostream& out();
  void Append(std::string_view bytes);  // To pending_, written out in large chunks.
  void WritePending();
  void WriteToStream(std::string_view bytes);  // Writes to the stream; starts the disk write-out now and then.
  void EndRecord();

  std::filesystem::path path_;
  std::unique_ptr<AtomicFile> atomic_;  // Set for atomic writers.
  std::ofstream direct_;                // Used by appendable writers.
  std::string pending_;  // Records not yet handed to the stream.
  size_t unsynced_bytes_ = 0;
  bool flush_each_record_ = false;
  bool closed_ = false;
  int64_t records_ = 0;
};

// Framing a record where it is produced (e.g. on worker threads, so the CRCs are computed in
// parallel and the writer only copies bytes):
//   std::string buffer(kTFRecordHeaderBytes, '\0');   // Room for the header.
//   buffer += data;                                    // Or serialize straight into it.
//   FinishTFRecordFrame(&buffer);                      // Fills the header, appends the footer.
//   writer.WriteFramed(buffer);
constexpr size_t kTFRecordHeaderBytes = 12;
// Requires buffer->size() >= kTFRecordHeaderBytes; the data is everything after the header bytes.
void FinishTFRecordFrame(std::string* buffer);

// Both default to the process-wide input limits (core/input_limits.h: --skip-corrupt,
// --max-record-bytes).
struct TFRecordReaderOptions {
  // false: a corrupt or truncated record throws FormatError.
  // true: it is reported (Warn() + problems()) and reading continues with the next intact record
  // (after a bad length header the reader scans forward for the next valid header, at most
  // max_record_bytes + 16 bytes: no intact record can start further away).
  bool skip_corrupt = GetInputLimits().skip_corrupt_records;
  // A record whose length field (CRC-valid) says more is an error naming this limit (skipped with
  // skip_corrupt: its bytes are streamed past, never held). In an uncompressed file the length is
  // also checked against what remains of the file.
  uint64_t max_record_bytes = GetInputLimits().max_record_bytes;
};

// Reads a TFRecord file one record at a time, checking every length and data CRC32C.
// ZLIB- and GZIP-compressed TFRecord files (TF's RecordWriterOptions ZLIB/GZIP) are detected from
// their first bytes and decompressed on the fly; byte offsets then refer to the decompressed stream.
// A compressed record is decompressed in chunks, so memory grows only with the bytes that actually
// arrive, whatever its length field claims.
class TFRecordReader {
 public:
  // Throws IoError if the file cannot be opened.
  explicit TFRecordReader(const std::filesystem::path& path, TFRecordReaderOptions options = {});
  ~TFRecordReader();
  TFRecordReader(const TFRecordReader&) = delete;
  TFRecordReader& operator=(const TFRecordReader&) = delete;

  // Fills *record with the next record and returns true; returns false at a clean end of file.
  // Throws FormatError naming the file, record index (0-based) and byte offset on a CRC mismatch or
  // truncation (unless skip_corrupt).
  bool Next(std::string* record);

  // Index (0-based, counting every record slot including skipped ones) and start offset of the
  // record last returned by Next().
  int64_t record_index() const { return last_index_; }
  uint64_t record_offset() const { return last_offset_; }
  bool compressed() const { return compression_ != 0; }
  const std::filesystem::path& path() const { return path_; }
  // With skip_corrupt: one message per problem skipped, in file order.
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  class Source;
  size_t ReadFully(char* buf, size_t n);
  bool ReadData(std::string* record, uint64_t length);  // False if the stream ends first.
  bool Discard(uint64_t n);                              // False if the stream ends first.
  [[noreturn]] void Fail(uint64_t offset, const std::string& what);
  bool Report(uint64_t offset, const std::string& what);  // Throws, or records and returns true.
  bool Resync(char header[12], uint64_t bad_header_offset);
  uint64_t MaxRecordBytes() const;  // Longest record the limit and the rest of the file allow.
  uint64_t RemainingBytes() const;  // Longest record the rest of an uncompressed file can hold.
  uint64_t MaxRecordBytesAt(uint64_t data_offset) const;  // MaxRecordBytes for data starting there.

  std::filesystem::path path_;
  TFRecordReaderOptions options_;
  std::unique_ptr<Source> source_;
  int compression_ = 0;  // 0 none, else zlib/gzip.
  uint64_t file_size_ = 0;  // 0 for compressed files.
  uint64_t offset_ = 0;  // Bytes consumed so far (decompressed stream).
  int64_t next_index_ = 0;
  int64_t last_index_ = -1;
  uint64_t last_offset_ = 0;
  std::vector<std::string> problems_;
  std::string pending_;  // Read by Resync past the header it found; ReadFully returns these first.
  size_t pending_pos_ = 0;
};

// Reads single records of an uncompressed TFRecord file by position (pread: safe to share between
// threads), for datasets that index their records once and read them on demand.
//
//   TFRecordRandomReader file("train.record");
//   std::string data = file.Read({offset, length, index});   // Data CRC checked again.
struct TFRecordLocation {
  uint64_t offset = 0;  // Byte offset of the record's header (TFRecordReader::record_offset()).
  uint64_t length = 0;  // Data bytes.
  int64_t index = 0;    // Record index in the file (for messages).
};
class TFRecordRandomReader {
 public:
  // Throws IoError if the file cannot be opened.
  explicit TFRecordRandomReader(const std::filesystem::path& path);
  ~TFRecordRandomReader();
  TFRecordRandomReader(const TFRecordRandomReader&) = delete;
  TFRecordRandomReader& operator=(const TFRecordRandomReader&) = delete;

  // The data of the record at `where`. Throws IoError on a read failure, FormatError naming the file,
  // record index and byte offset if the file ends early or the data CRC does not match (the file
  // changed since it was indexed).
  std::string Read(const TFRecordLocation& where) const;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// Reads every record of a file. Throws as TFRecordReader::Next.
std::vector<std::string> ReadAllRecords(const std::filesystem::path& path);

// "PREFIX-00002-of-00004": shard i of n, as TF's sharded writers name them.
std::string ShardPath(const std::string& prefix, int i, int n);

// Expands what a user may pass for "the records": a comma-separated list where each item is a
// plain path, a glob (`train-*`, `train-?????-of-00010`), or "PREFIX@N" (= the N shard paths).
// A plain path that does not exist but has shards next to it ("PREFIX-?????-of-?????") expands to
// them. Results are sorted within each item. Throws IoError naming the item that matched nothing.
std::vector<std::filesystem::path> ExpandInputPaths(const std::string& pattern);

}  // namespace segtune
