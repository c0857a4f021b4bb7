// torch.save zip archives without LibTorch (formats/pth_zip.h, formats/zip_reader.h): the seed
// archives of tests/fuzz/corpus/pth (written by torch.save, tests/fuzz/make_corpus.py) read down to
// tensor records and storage bytes; damage is an error naming the file and the record.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/pth_zip.h"
#include "test_util.h"

namespace segtune {
namespace {

// OrderedDict(conv.weight = arange(6.).reshape(1, 2, 3), bn.num_batches_tracked = tensor(3),
// view = conv.weight[0, 1]) saved by torch.save.
std::string Seed(const char* name) { return ReadFile(testing::SourcePath(std::string("tests/fuzz/corpus/pth/") + name)); }

std::string ErrorOf(const std::string& bytes, bool shapes_only = false) {
  try {
    ReadPthStateDict(bytes, "m.pth", shapes_only);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "(no error)";
}

// Offset of the central directory entry of `name` (the second place the name appears).
size_t DirectoryEntry(const std::string& zip, const std::string& name) {
  const size_t local = zip.find(name);
  const size_t central = zip.find(name, local + 1);
  EXPECT_NE(central, std::string::npos);
  return central - 46;
}

void PutLE(uint64_t v, int n, std::string* out) {
  for (int i = 0; i < n; ++i) out->push_back(char((v >> (8 * i)) & 0xff));
}
uint64_t GetLE(const std::string& b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t(uint8_t(b[at + i])) << (8 * i);
  return v;
}

// The same archive with a zip64 directory, as a writer makes it for files above 4 GiB: every
// entry's sizes and offset moved to a zip64 extra field, the zip64 end records before the classic
// one, whose count and offset say "see zip64".
std::string AsZip64(const std::string& zip) {
  const size_t eocd = zip.rfind(std::string("PK\x05\x06", 4));
  const size_t count = GetLE(zip, eocd + 10, 2);
  size_t at = GetLE(zip, eocd + 16, 4);
  std::string out = zip.substr(0, at);  // Local headers and data, unchanged.
  const size_t directory = out.size();
  for (size_t i = 0; i < count; ++i) {
    const size_t name_len = GetLE(zip, at + 28, 2), extra_len = GetLE(zip, at + 30, 2), comment_len = GetLE(zip, at + 32, 2);
    std::string entry = zip.substr(at, 46);
    const uint64_t compressed = GetLE(zip, at + 20, 4), uncompressed = GetLE(zip, at + 24, 4), local = GetLE(zip, at + 42, 4);
    for (size_t field : {20, 24, 42}) entry.replace(field, 4, "\xff\xff\xff\xff");
    entry.replace(30, 2, std::string("\x1c\x00", 2));  // Extra: 4 + 24 bytes.
    entry.replace(32, 2, std::string("\x00\x00", 2));
    entry += zip.substr(at + 46, name_len);
    PutLE(1, 2, &entry);
    PutLE(24, 2, &entry);
    for (uint64_t v : {uncompressed, compressed, local}) PutLE(v, 8, &entry);
    out += entry;
    at += 46 + name_len + extra_len + comment_len;
  }
  const size_t directory_size = out.size() - directory;
  const size_t zip64_end = out.size();
  PutLE(0x06064b50, 4, &out);
  PutLE(44, 8, &out);  // Size of the rest of this record.
  PutLE(45, 2, &out);
  PutLE(45, 2, &out);
  PutLE(0, 4, &out);
  PutLE(0, 4, &out);
  PutLE(count, 8, &out);
  PutLE(count, 8, &out);
  PutLE(directory_size, 8, &out);
  PutLE(directory, 8, &out);
  PutLE(0x07064b50, 4, &out);  // Locator.
  PutLE(0, 4, &out);
  PutLE(zip64_end, 8, &out);
  PutLE(1, 4, &out);
  PutLE(0x06054b50, 4, &out);  // Classic end record.
  PutLE(0, 4, &out);
  PutLE(0xffff, 2, &out);
  PutLE(0xffff, 2, &out);
  PutLE(0xffffffff, 4, &out);
  PutLE(0xffffffff, 4, &out);
  PutLE(0, 2, &out);
  return out;
}

TEST(PthZip, ReadsTensorRecordsAndStorageBytesOfATorchSaveArchive) {
  const std::string bytes = Seed("seed-state_dict.pth");
  const PthStateDict state = ReadPthStateDict(bytes, "seed.pth", false);
  ASSERT_EQ(state.tensors.size(), 3u);
  EXPECT_EQ(state.tensors[0].first, "conv.weight");
  EXPECT_EQ(state.tensors[0].second.size, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(state.tensors[0].second.stride, (std::vector<int64_t>{6, 3, 1}));
  EXPECT_EQ(state.tensors[1].first, "bn.num_batches_tracked");
  EXPECT_EQ(state.tensors[1].second.storage.dtype, TensorDtype::kI64);
  EXPECT_TRUE(state.tensors[1].second.size.empty());
  EXPECT_EQ(state.tensors[2].first, "view");  // conv.weight[0, 1]: the same storage, offset 3.
  EXPECT_EQ(state.tensors[2].second.storage.key, state.tensors[0].second.storage.key);
  EXPECT_EQ(state.tensors[2].second.storage_offset, 3);
  EXPECT_EQ(state.tensors[2].second.size, (std::vector<int64_t>{3}));
  ASSERT_EQ(state.storages.size(), 2u);
  const PthStorageBytes& floats = state.storages.at(state.tensors[0].second.storage.key);
  EXPECT_EQ(floats.dtype, TensorDtype::kF32);
  ASSERT_EQ(floats.numel, 6);
  ASSERT_EQ(floats.bytes.size(), 24u);
  float values[6];
  std::memcpy(values, floats.bytes.data(), sizeof values);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(values[i], float(i));
  // Stored records are views of the file's bytes, not copies.
  EXPECT_GE(floats.bytes.data(), bytes.data());
  EXPECT_LT(floats.bytes.data(), bytes.data() + bytes.size());
  EXPECT_TRUE(state.metadata.empty());
}

TEST(PthZip, UnwrapsACheckpointsModelEntry) {
  const PthStateDict state = ReadPthStateDict(Seed("seed-checkpoint.pth"), "ckpt.pth", false);
  EXPECT_EQ(state.tensors.size(), 3u);
  EXPECT_EQ(state.metadata.at("segtune.state_dict_key"), "model");
}

TEST(PthZip, ShapesOnlyReadsNoStorageRecord) {
  std::string bytes = Seed("seed-state_dict.pth");
  bytes[bytes.find(std::string("\0\0\x80\x3f", 4))] ^= 1;  // Damage data/0 (1.0f): its CRC no longer matches.
  const PthStateDict state = ReadPthStateDict(bytes, "m.pth", true);
  ASSERT_EQ(state.tensors.size(), 3u);
  for (const auto& [key, storage] : state.storages) EXPECT_TRUE(storage.bytes.empty()) << key;
  EXPECT_NE(ErrorOf(bytes).find("m.pth: data/0: CRC-32 mismatch"), std::string::npos) << ErrorOf(bytes);
}

TEST(PthZip, DirectoryClaimsAreCheckedBeforeAnythingIsRead) {
  const std::string seed = Seed("seed-state_dict.pth");
  std::string bytes = seed;
  bytes[DirectoryEntry(bytes, "archive/data/0") + 24] = 25;  // Uncompressed 25 but 24 stored.
  EXPECT_NE(ErrorOf(bytes).find("m.pth: data/0: stored entry declares 25 bytes but holds 24"), std::string::npos) << ErrorOf(bytes);
  bytes = seed;
  for (size_t at : {size_t(20), size_t(24)}) bytes[DirectoryEntry(bytes, "archive/data/0") + at] = 4;  // 4 bytes, 6 floats.
  EXPECT_NE(ErrorOf(bytes, true).find("m.pth: data/0: declares 4 bytes, expected 6 elements of 4 bytes"), std::string::npos)
      << ErrorOf(bytes, true);
  bytes = seed;
  bytes[DirectoryEntry(bytes, "archive/data/0") + 10] = 12;  // bzip2.
  EXPECT_NE(ErrorOf(bytes).find("m.pth: zip: corrupt or truncated archive: entry 'archive/data/0' uses compression method 12"),
            std::string::npos) << ErrorOf(bytes);
  bytes = seed;
  const size_t entry = DirectoryEntry(bytes, "archive/data/1");
  bytes.replace(entry + 46, 14, "archive/data/0");  // Two entries of one name.
  EXPECT_NE(ErrorOf(bytes).find("entry 'archive/data/0' appears twice"), std::string::npos) << ErrorOf(bytes);
}

// libtorch's reader (used before) read zip64 archives, which torch.save writes above 4 GiB; the CRCs
// were then not checked. Both hold now.
TEST(PthZip, ReadsZip64ArchivesAndChecksTheirCrcs) {
  const std::string zip64 = AsZip64(Seed("seed-state_dict.pth"));
  const PthStateDict state = ReadPthStateDict(zip64, "big.pth", false);
  ASSERT_EQ(state.tensors.size(), 3u);
  EXPECT_EQ(state.storages.at(state.tensors[0].second.storage.key).bytes.size(), 24u);
  std::string damaged = zip64;
  damaged[damaged.find(std::string("\0\0\x80\x3f", 4))] ^= 1;
  EXPECT_NE(ErrorOf(damaged).find("m.pth: data/0: CRC-32 mismatch"), std::string::npos) << ErrorOf(damaged);
  for (size_t length = zip64.size() - 120; length < zip64.size(); ++length) {
    EXPECT_THROW(ReadPthStateDict(std::string_view(zip64).substr(0, length), "cut.pth", false), FormatError) << length;
  }
}

TEST(PthZip, NotAZipAndLegacyTorchSaveAreNamed) {
  EXPECT_EQ(ErrorOf("hello"), "m.pth: not a zip archive (a torch.save .pth file starts with PK)");
  const std::string legacy("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19rest", 18);
  EXPECT_NE(ErrorOf(legacy).find("m.pth: legacy (PyTorch < 1.6, non-zip) torch.save format"), std::string::npos);
  EXPECT_NE(ErrorOf("PK\x03\x04 and nothing else").find("m.pth: zip: corrupt or truncated archive"), std::string::npos);
}

TEST(PthZip, EveryTruncationAndRandomDamageIsAFormatErrorOrHarmless) {
  const std::string seed = Seed("seed-state_dict.pth");
  for (size_t length = 0; length < seed.size(); ++length) {
    EXPECT_THROW(ReadPthStateDict(std::string_view(seed).substr(0, length), "cut.pth", false), FormatError) << length;
  }
  const PthStateDict original = ReadPthStateDict(seed, "m.pth", false);
  std::mt19937 rng(7);
  int detected = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::string damaged = seed;
    damaged[rng() % damaged.size()] ^= char(1 + rng() % 255);
    try {
      const PthStateDict state = ReadPthStateDict(damaged, "m.pth", false);
      ASSERT_EQ(state.tensors.size(), original.tensors.size()) << trial;
      for (const auto& [key, storage] : state.storages) EXPECT_EQ(storage.bytes, original.storages.at(key).bytes) << trial;
    } catch (const FormatError&) {
      ++detected;
    }
  }
  // Measured 176 of 400: most of the 1,127-byte seed is alignment padding, timestamps and local-header
  // names, which nothing reads. Anything detected at all shows the damage reached checked bytes.
  EXPECT_GT(detected, 100);
}

}  // namespace
}  // namespace segtune
