// coco2tfrecord throughput driver (see coco2tfrecord_bench.sh, which also runs the Python peer).
//   coco2tfrecord_bench generate DIR [N]           N JPEGs (640x480) + DIR/coco.json with polygons
//   coco2tfrecord_bench run DIR OUT [--masks] [--threads T]   converts, prints "images/s"
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <thread>

#include "segtune/core/log.h"
#include "segtune/formats/coco.h"
#include "segtune/data/coco2tfrecord.h"

namespace {

int Generate(const std::filesystem::path& dir, int n) {
  std::filesystem::create_directories(dir / "images");
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  segtune::CocoDataset coco;
  for (int c = 1; c <= 5; ++c) coco.categories.push_back({c, "class" + std::to_string(c), "thing", nlohmann::json::object()});
  int64_t ann_id = 1;
  const int W = 640, H = 480;
  for (int i = 0; i < n; ++i) {
    cv::Mat image(H, W, CV_8UC3);
    cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));  // Noise: realistic JPEG sizes.
    cv::GaussianBlur(image, image, cv::Size(7, 7), 2);
    const std::string name = "img" + std::to_string(i) + ".jpg";
    cv::imwrite((dir / "images" / name).string(), image, {cv::IMWRITE_JPEG_QUALITY, 90});
    segtune::CocoImage im;
    im.id = {std::to_string(i + 1), true};
    im.file_name = name;
    im.width = W;
    im.height = H;
    coco.images.push_back(im);
    for (int k = 0; k < 5; ++k) {  // 5 objects: 12-vertex star-ish polygons.
      const double cx = 80 + u(rng) * (W - 160), cy = 80 + u(rng) * (H - 160), r = 20 + u(rng) * 50;
      std::vector<double> poly;
      double x0 = 1e9, y0 = 1e9, x1 = -1, y1 = -1;
      for (int v = 0; v < 12; ++v) {
        const double a = v * 2 * M_PI / 12, rr = r * (0.6 + 0.4 * u(rng));
        const double x = cx + rr * std::cos(a), y = cy + rr * std::sin(a);
        poly.push_back(x);
        poly.push_back(y);
        x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
      }
      segtune::CocoAnnotation ann;
      ann.id = ann_id++;
      ann.image_id = im.id;
      ann.category_id = 1 + k;
      ann.segmentation.polygons.push_back(poly);
      ann.bbox = {x0, y0, x1 - x0, y1 - y0};
      ann.area = (x1 - x0) * (y1 - y0) * 0.7;
      coco.annotations.push_back(ann);
    }
  }
  segtune::SaveCoco(coco, dir / "coco.json");
  std::printf("generated %d images in %s\n", n, dir.c_str());
  return 0;
}

// CPU seconds (user + system, all threads) used by this process so far.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + 1e-6 * double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

int Run(const std::filesystem::path& dir, const std::string& out, bool masks, int threads) {
  segtune::SetVerbosity(segtune::Verbosity::kQuiet);
  const double cpu_start = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  const segtune::CocoDataset coco = segtune::LoadCoco(dir / "coco.json");
  segtune::CocoToTfRecordOptions options;
  options.images_dir = dir / "images";
  options.output = out;
  options.include_masks = masks;
  options.threads = threads;
  options.overwrite = true;  // The bench's own output from the previous pass.
  const auto report = segtune::ConvertCocoToTfRecord(coco, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_start;
  std::printf("segtune%s: %lld images in %.2f s = %.1f images/s (%d threads); CPU %.2f s = %.1f images per CPU-second\n",
              masks ? " --include-masks" : "", static_cast<long long>(report.images), seconds,
              double(report.images) / seconds, threads, cpu, double(report.images) / cpu);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "generate" && argc >= 3) return Generate(argv[2], argc > 3 ? std::stoi(argv[3]) : 2000);
  if (mode == "run" && argc >= 4) {
    bool masks = false;
    int threads = int(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 4; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--masks") masks = true;
      if (a == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    }
    return Run(argv[2], argv[3], masks, threads);
  }
  std::fprintf(stderr, "usage: coco2tfrecord_bench generate DIR [N] | run DIR OUT [--masks] [--threads T]\n");
  return 2;
}
