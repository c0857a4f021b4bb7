// Times LoadCoco on a generated COCO file of about the size of COCO train2017 instances (~450 MB).
//   cmake --build build --target coco_load_bench && build/coco_load_bench [MB] [dir]
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "segtune/core/atomic_file.h"
#include "segtune/formats/coco.h"

namespace {

// COCO-like: 118k images, ~7 annotations each, polygons of ~24 vertices with 2-decimal coordinates.
std::string GenerateCoco(size_t target_bytes) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> coord(0, 640);
  std::string out = "{\"info\":{\"description\":\"bench\"},\"licenses\":[],\"images\":[";
  const int images = int(target_bytes / 3800);
  for (int i = 0; i < images; ++i) {
    if (i) out += ',';
    out += "{\"license\":1,\"file_name\":\"" + std::to_string(i) + ".jpg\",\"coco_url\":\"http://images.cocodataset.org/train2017/" +
           std::to_string(i) + ".jpg\",\"height\":480,\"width\":640,\"date_captured\":\"2013-11-14 17:02:52\",\"id\":" +
           std::to_string(i) + "}";
  }
  out += "],\"categories\":[";
  for (int c = 1; c <= 80; ++c) out += (c > 1 ? "," : "") + std::string("{\"supercategory\":\"s\",\"id\":") + std::to_string(c) + ",\"name\":\"c" + std::to_string(c) + "\"}";
  out += "],\"annotations\":[";
  char buf[64];
  for (int64_t id = 1; out.size() < target_bytes; ++id) {
    if (id > 1) out += ',';
    out += "{\"segmentation\":[[";
    for (int k = 0; k < 48; ++k) {
      std::snprintf(buf, sizeof buf, k ? ",%.2f" : "%.2f", coord(rng));
      out += buf;
    }
    std::snprintf(buf, sizeof buf, "%.4f", coord(rng) * 10);
    out += "]],\"area\":" + std::string(buf) + ",\"iscrowd\":0,\"image_id\":" + std::to_string(id % images) +
           ",\"bbox\":[12.5,30.25,100.0,80.75],\"category_id\":" + std::to_string(1 + id % 80) + ",\"id\":" + std::to_string(id) + "}";
  }
  out += "]}";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t mb = argc > 1 ? std::stoul(argv[1]) : 450;
  const std::filesystem::path dir = argc > 2 ? argv[2] : std::filesystem::temp_directory_path();
  const auto path = dir / "coco_load_bench.json";
  segtune::WriteFileAtomic(path, GenerateCoco(mb << 20));
  const double size_mb = double(std::filesystem::file_size(path)) / (1 << 20);
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  const segtune::CocoDataset d = segtune::LoadCoco(path);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = double(std::clock() - cpu_start) / CLOCKS_PER_SEC;  // Honest on a busy machine.
  std::printf("LoadCoco: %.0f MB, %zu images, %zu annotations in %.2f s wall (%.0f MB/s), %.2f s CPU (%.0f MB/s)\n",
              size_mb, d.images.size(), d.annotations.size(), seconds, size_mb / seconds, cpu, size_mb / cpu);
  std::filesystem::remove(path);
  return 0;
}
