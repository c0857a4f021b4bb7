// Reading a TensorBoard event file back in tests, by hand (independently of TFRecordReader).
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "event.pb.h"
#include "segtune/core/atomic_file.h"
#include "segtune/formats/crc32c.h"

namespace segtune::testing {

// Decodes TFRecord framing by hand (independently of TFRecordReader) and checks both CRCs.
inline std::vector<tensorboard::Event> DecodeEventFile(const std::filesystem::path& path) {
  const std::string bytes = ReadFile(path);
  std::vector<tensorboard::Event> events;
  size_t at = 0;
  while (at < bytes.size()) {
    EXPECT_LE(at + 12, bytes.size());
    uint64_t length;
    uint32_t length_crc, data_crc;
    std::memcpy(&length, bytes.data() + at, 8);
    std::memcpy(&length_crc, bytes.data() + at + 8, 4);
    EXPECT_EQ(length_crc, MaskCrc(Crc32c(std::string_view(bytes.data() + at, 8))));
    const std::string_view data(bytes.data() + at + 12, length);
    std::memcpy(&data_crc, bytes.data() + at + 12 + length, 4);
    EXPECT_EQ(data_crc, MaskCrc(Crc32c(data)));
    tensorboard::Event event;
    EXPECT_TRUE(event.ParseFromArray(data.data(), static_cast<int>(data.size())));
    events.push_back(event);
    at += 12 + length + 4;
  }
  return events;
}

}  // namespace segtune::testing
