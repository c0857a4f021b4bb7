#include "segtune/formats/run_deflate.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <random>
#include <vector>

#include "segtune/formats/image_codec.h"
#include "test_util.h"

namespace segtune {
namespace {

using segtune::testing::RunPython;

// What zlib's inflate (which checks the Adler-32) makes of the stream: rows with their filter byte.
std::vector<uint8_t> Inflate(const std::string& z, size_t raw_size) {
  std::vector<uint8_t> raw(raw_size + 1);
  uLongf n = uLongf(raw.size());
  const int rc = uncompress(raw.data(), &n, reinterpret_cast<const Bytef*>(z.data()), uLong(z.size()));
  EXPECT_EQ(rc, Z_OK);
  raw.resize(n);
  return raw;
}

std::vector<uint8_t> Scanlines(const std::vector<uint8_t>& pixels, int h, int w) {
  std::vector<uint8_t> raw;
  for (int y = 0; y < h; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), pixels.begin() + size_t(y) * w, pixels.begin() + size_t(y + 1) * w);
  }
  return raw;
}

// Random images: noise, 0/1 masks with short and long runs, and many-valued class maps.
std::vector<uint8_t> RandomImage(std::mt19937& rng, int h, int w, int mode) {
  std::vector<uint8_t> px(size_t(h) * w);
  uint8_t v = 0;
  for (auto& p : px) {
    if (mode == 0) {
      p = uint8_t(rng());
      continue;
    }
    if (rng() % (mode == 1 ? 3 : 300) == 0) v = uint8_t(rng() % (mode == 3 ? 256 : 2));
    p = v;
  }
  return px;
}

TEST(RunDeflate, InflatesToTheScanlinesForRandomImages) {
  std::mt19937 rng(5);
  for (int it = 0; it < 400; ++it) {
    const int h = 1 + int(rng() % 30), w = 1 + int(rng() % 700);
    const auto px = RandomImage(rng, h, w, it % 4);
    const auto raw = Scanlines(px, h, w);
    ASSERT_EQ(Inflate(DeflateGrayScanlines(px.data(), h, w), raw.size()), raw) << it << ": " << h << "x" << w;
  }
}

TEST(RunDeflate, RunLengthsAroundTheLongestMatchAreCoded) {
  // Runs of n bytes need one literal plus matches of 3..258: check every remainder near 258 multiples.
  for (int w : {1, 2, 3, 4, 257, 258, 259, 260, 261, 262, 515, 516, 517, 518, 519, 1000}) {
    std::vector<uint8_t> px(size_t(w) * 2, 1);
    px[w] = 0;  // Row 2 starts with a 0 that merges with its filter byte.
    const auto raw = Scanlines(px, 2, w);
    EXPECT_EQ(Inflate(DeflateGrayScanlines(px.data(), 2, w), raw.size()), raw) << w;
  }
}

TEST(RunDeflate, HugeUniformImageKeepsAdlerCorrect) {
  const int h = 3000, w = 3000;  // One run of ~9M bytes: the Adler-32 sums must not overflow.
  std::vector<uint8_t> px(size_t(h) * w, 0);
  px[size_t(h) * w / 2] = 255;
  const auto raw = Scanlines(px, h, w);
  EXPECT_EQ(Inflate(DeflateGrayScanlines(px.data(), h, w), raw.size()), raw);
}

TEST(RunDeflate, MaskPngDecodesIdenticallyWithPil) {
  std::mt19937 rng(9);
  const int h = 37, w = 300;
  const auto px = RandomImage(rng, h, w, 2);
  const std::string path = ::testing::TempDir() + "/run_deflate_mask.png";
  std::ofstream(path, std::ios::binary) << EncodeGrayPng(px.data(), h, w);
  const auto result = RunPython(
      "-c \"import sys,numpy as np; from PIL import Image; im=Image.open(sys.argv[1]); im.load(); "
      "a=np.asarray(im); print(im.mode, a.shape[0], a.shape[1]); sys.stdout.write(''.join(map(str, a.ravel().tolist())))\" " +
      path);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::string expected = "L " + std::to_string(h) + " " + std::to_string(w) + "\n";
  for (uint8_t v : px) expected += char('0' + v);
  EXPECT_EQ(result.output, expected);
}

}  // namespace
}  // namespace segtune
