// The YOLO fixtures of tests/data/fixtures/convert/yolo copied into a test's folder with their images
// written (solid-colour JPEG/PNG files of the sizes the label files assume), for the reader's tests
// (tests/data) and the CLI's --from tests (tests/cli).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>

#include "test_util.h"

namespace segtune::testing {

// A width x height solid-colour image, encoded by its extension; the parent folders are created.
inline void WriteSolidImage(const std::filesystem::path& path, int width, int height) {
  std::filesystem::create_directories(path.parent_path());
  ASSERT_TRUE(cv::imwrite(path.string(), cv::Mat(height, width, CV_8UC3, cv::Scalar(40, 90, 200)))) << path;
}

// The Ultralytics layout (data.yaml, images/ and labels/ per split) with its four images, in dir/ultra.
inline std::filesystem::path UltralyticsFixture(const TempDir& dir) {
  const std::filesystem::path root = dir / "ultra";
  std::filesystem::copy(SourcePath("tests/data/fixtures/convert/yolo/ultralytics"), root,
                        std::filesystem::copy_options::recursive);
  WriteSolidImage(root / "images/train/street.jpg", 64, 48);
  WriteSolidImage(root / "images/train/sub/corner.png", 32, 24);
  WriteSolidImage(root / "images/train/empty.png", 16, 16);
  WriteSolidImage(root / "images/val/park.jpg", 40, 20);
  return root;
}

// The Darknet layout (obj.data, obj.names, train.txt/valid.txt lists) with its three images, in dir/darknet.
inline std::filesystem::path DarknetFixture(const TempDir& dir) {
  const std::filesystem::path root = dir / "darknet";
  std::filesystem::copy(SourcePath("tests/data/fixtures/convert/yolo/darknet"), root,
                        std::filesystem::copy_options::recursive);
  for (const char* name : {"site1", "site2", "site3"}) {
    WriteSolidImage(root / "data/obj" / (std::string(name) + ".jpg"), 80, 40);
  }
  return root;
}

}  // namespace segtune::testing
