// Generates a COCO evaluation benchmark: N images (default 5,000) x 80 categories with polygon
// ground truth, and 100 detections per image as bbox results and as RLE mask results.
//   coco_eval_bench_gen OUT_DIR [IMAGES]  ->  OUT_DIR/{gt.json, dt_bbox.json, dt_segm.json}
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "segtune/core/atomic_file.h"
#include "segtune/formats/rle.h"

namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// RLE strings use ASCII 48..111, which includes the backslash.
std::string JsonEscaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// A star-shaped polygon around (cx, cy) with radii rx, ry.
std::vector<double> Blob(std::mt19937& rng, double cx, double cy, double rx, double ry) {
  std::uniform_real_distribution<double> U(0.75, 1.0);
  const int n = 8 + int(rng() % 9);
  std::vector<double> xy;
  for (int i = 0; i < n; ++i) {
    const double a = 2 * M_PI * i / n, r = U(rng);
    xy.push_back(cx + rx * r * std::cos(a));
    xy.push_back(cy + ry * r * std::sin(a));
  }
  return xy;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: coco_eval_bench_gen OUT_DIR [IMAGES]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int images = argc > 2 ? std::atoi(argv[2]) : 5000;
  const int W = 640, H = 480, kCats = 80, kDets = 100;
  std::mt19937 rng(2024);
  std::uniform_real_distribution<double> U(0, 1);
  std::string gt = "{\"images\":[", bbox = "[", segm = "[", anns;
  long ann_id = 1;
  for (int i = 1; i <= images; ++i) {
    gt += (i > 1 ? "," : "") + std::string("{\"id\":") + std::to_string(i) + ",\"width\":" + std::to_string(W) +
          ",\"height\":" + std::to_string(H) + ",\"file_name\":\"" + std::to_string(i) + ".jpg\"}";
    const int n_gt = 2 + int(rng() % 12);
    int dets = 0;
    auto add_det = [&](int cat, const std::vector<double>& poly, double score) {
      const segtune::Rle rle = segtune::RleFromPolygon(poly, H, W);
      const auto box = segtune::RleToBbox(rle);
      const std::string head = std::string(dets || i > 1 ? "," : "") + "{\"image_id\":" + std::to_string(i) +
                               ",\"category_id\":" + std::to_string(cat) + ",\"score\":" + Num(score).substr(0, 4);
      bbox += head + ",\"bbox\":[" + Num(box[0]) + "," + Num(box[1]) + "," + Num(box[2]) + "," + Num(box[3]) + "]}";
      segm += head + ",\"segmentation\":{\"size\":[" + std::to_string(H) + "," + std::to_string(W) +
              "],\"counts\":\"" + JsonEscaped(segtune::RleToString(rle)) + "\"}}";
      ++dets;
    };
    for (int g = 0; g < n_gt; ++g) {
      const int cat = 1 + int(rng() % kCats);
      const double s = std::pow(2.0, 3 + 5 * U(rng));
      const double rx = s * (0.5 + U(rng)) / 2, ry = s * (0.5 + U(rng)) / 2;
      const double cx = rx + U(rng) * (W - 2 * rx), cy = ry + U(rng) * (H - 2 * ry);
      const auto poly = Blob(rng, cx, cy, rx, ry);
      const segtune::Rle rle = segtune::RleFromPolygon(poly, H, W);
      const auto box = segtune::RleToBbox(rle);
      std::string p;
      for (size_t k = 0; k < poly.size(); ++k) p += (k ? "," : "") + Num(poly[k]);
      const std::string sep = ann_id > 1 ? "," : "";
      const std::string id = std::to_string(ann_id++);
      anns += sep + "{\"id\":" + id + ",\"image_id\":" +
              std::to_string(i) + ",\"category_id\":" + std::to_string(cat) + ",\"iscrowd\":" +
              (U(rng) < 0.03 ? "1" : "0") + ",\"area\":" + std::to_string(segtune::RleArea(rle)) + ",\"bbox\":[" +
              Num(box[0]) + "," + Num(box[1]) + "," + Num(box[2]) + "," + Num(box[3]) + "],\"segmentation\":[[" + p +
              "]]}";
      for (int k = 0; k < 2 && dets < kDets; ++k) {
        const double j = 0.2 * U(rng);
        add_det(cat, Blob(rng, cx + j * rx * (U(rng) - .5), cy + j * ry * (U(rng) - .5), rx * (1 + j), ry * (1 - j)),
                U(rng));
      }
    }
    while (dets < kDets) {  // False positives, spread over all categories.
      const double rx = 4 + 60 * U(rng), ry = 4 + 60 * U(rng);
      add_det(1 + int(rng() % kCats), Blob(rng, rx + U(rng) * (W - 2 * rx), ry + U(rng) * (H - 2 * ry), rx, ry),
              U(rng) * 0.7);
    }
  }
  gt += "],\"categories\":[";
  for (int c = 1; c <= kCats; ++c) gt += (c > 1 ? "," : "") + std::string("{\"id\":") + std::to_string(c) + ",\"name\":\"c" + std::to_string(c) + "\"}";
  gt += "],\"annotations\":[" + anns + "]}\n";
  segtune::WriteFileAtomic(dir + "/gt.json", gt);
  segtune::WriteFileAtomic(dir + "/dt_bbox.json", bbox + "]\n");
  segtune::WriteFileAtomic(dir + "/dt_segm.json", segm + "]\n");
  std::printf("wrote %s/{gt.json,dt_bbox.json,dt_segm.json}: %d images, %ld ground truths, %d detections\n",
              dir.c_str(), images, ann_id - 1, images * kDets);
  return 0;
}
