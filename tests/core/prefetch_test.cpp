#include "segtune/core/prefetch.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "test_util.h"

namespace segtune {
namespace {

// Pages of `path` in the page cache (mincore over a read-only mapping).
size_t ResidentPages(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return 0;
  const size_t size = std::filesystem::file_size(path);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return 0;
  const long page = ::sysconf(_SC_PAGESIZE);
  std::vector<unsigned char> resident((size + page - 1) / page);
  size_t count = 0;
  if (::mincore(map, size, resident.data()) == 0) {
    for (unsigned char r : resident) count += r & 1;
  }
  ::munmap(map, size);
  return count;
}

// Writes `bytes` bytes to disk and drops them from the page cache; false where the file system keeps
// them anyway (tmpfs), so the test cannot tell prefetching from nothing.
bool WriteUncached(const std::filesystem::path& path, size_t bytes) {
  {
    std::ofstream out(path, std::ios::binary);
    const std::string block(1 << 16, 'x');
    for (size_t written = 0; written < bytes; written += block.size()) out.write(block.data(), block.size());
  }
  const int fd = ::open(path.c_str(), O_RDONLY);
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
  return ResidentPages(path) == 0;
}

TEST(PrefetchFile, BringsTheFileIntoThePageCacheUpToTheLimit) {
  testing::TempDir dir;
  const auto path = dir / "model.safetensors";
  constexpr size_t kBytes = size_t(8) << 20;
  if (!WriteUncached(path, kBytes)) GTEST_SKIP() << "this file system keeps written files cached";
  const long page = ::sysconf(_SC_PAGESIZE);
  PrefetchFile(path, kBytes / 2);  // Only the first half.
  size_t resident = 0;
  for (int i = 0; i < 200 && resident < kBytes / 2 / page; ++i) {  // The reads complete in the background.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    resident = ResidentPages(path);
  }
  EXPECT_GE(resident, kBytes / 2 / page);
  // The kernel's own read-ahead may take a little more, never the whole file.
  EXPECT_LT(resident, kBytes / page);
}

TEST(PrefetchFile, IgnoresWhatIsNotARegularFile) {
  testing::TempDir dir;
  PrefetchFile(dir / "missing", 1 << 20);
  PrefetchFile(dir.path(), 1 << 20);
  const auto fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  PrefetchFile(fifo, 1 << 20);  // A FIFO with no writer: must not wait for one.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  PrefetchModel(dir / "no-such-model");
  PrefetchInputs({(dir / "missing").string(), dir.path().string(), "*.record"});
}

TEST(PrefetchModel, ReadsAnExportDirectorysFiles) {
  testing::TempDir dir;
  const auto weights = dir / "model.safetensors";
  if (!WriteUncached(weights, size_t(1) << 20)) GTEST_SKIP() << "this file system keeps written files cached";
  PrefetchModel(dir.path());
  size_t resident = 0;
  for (int i = 0; i < 200 && resident == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    resident = ResidentPages(weights);
  }
  EXPECT_GT(resident, 0u);
}

}  // namespace
}  // namespace segtune
