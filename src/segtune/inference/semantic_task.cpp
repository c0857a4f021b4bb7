#include "segtune/inference/semantic_task.h"

#include <omp.h>

#include <algorithm>

#include "segtune/formats/example.h"
#include "segtune/formats/image_codec.h"
#include "segtune/inference/detection_objects.h"
#include "segtune/inference/semantic_overlay.h"
#include "segtune/inference/semantic_regions.h"

namespace segtune {
namespace {

// The regions as detections (boxes from pixel edges), so the record gets the same box keys as a
// detection model's (AddDetectionKeys).
std::vector<DetectedObject> RegionBoxes(const std::vector<PredictedRegion>& regions) {
  std::vector<DetectedObject> boxes;
  for (const auto& r : regions) {
    DetectedObject o;
    o.x1 = static_cast<float>(r.x);
    o.y1 = static_cast<float>(r.y);
    o.x2 = static_cast<float>(r.x + r.width);
    o.y2 = static_cast<float>(r.y + r.height);
    o.score = r.score;
    o.label = r.label;
    boxes.push_back(std::move(o));
  }
  return boxes;
}

// One COCO result per region (image_id is added by the pipeline); integer pixel boxes.
nlohmann::json CocoRegionResults(const std::vector<PredictedRegion>& regions, int height, int width) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& r : regions) {
    results.push_back({{"category_id", r.label},
                       {"bbox", {r.x, r.y, r.width, r.height}},
                       {"score", r.score},
                       {"segmentation", {{"size", {height, width}}, {"counts", r.rle}}}});
  }
  return results;
}

}  // namespace

SemanticTask::SemanticTask(std::vector<std::string> class_names, int64_t num_classes, const InferenceOptions& options,
                           const SemanticSink& sink)
    : InferenceTask({"normalize", "forward", "argmax", "regions", "png", "overlay"}, options),
      class_names_(std::move(class_names)), num_classes_(num_classes), sink_(sink) {}

void SemanticTask::Predict(const std::vector<PipelineImage*>& images, StageClock& clock) const {
  std::vector<ClassMaps> maps(images.size());
  PredictClassMaps(images, maps, clock);
  for (size_t k = 0; k < images.size(); ++k) PostProcess(images[k], std::move(maps[k]), clock);
}

// Everything after the model that does not depend on the other images.
void SemanticTask::PostProcess(PipelineImage* image, ClassMaps maps, StageClock& clock) const {
  const cv::Mat& map = maps.class_map;
  std::vector<PredictedRegion> regions;
  {
    StageClock::Scope timed(clock, "regions");
    regions = FindPredictedRegions(map, maps.probability, static_cast<int>(num_classes_), 1,
                                   !options().coco_results.empty());
  }
  std::string png;
  {
    StageClock::Scope timed(clock, "png");  // Encoded once: the mask file and the record share it.
    png = EncodeGrayPng(map.data, map.rows, map.cols);
  }
  if (!options().overlays_dir.empty()) {
    StageClock::Scope timed(clock, "overlay");
    image->overlay_jpeg = EncodeOverlayJpeg(RenderOverlay(image->bgr, map, class_names_));
  }
  StageClock::Scope timed(clock, "record");
  if (!options().masks_dir.empty()) image->mask_png = png;
  tensorflow::Example& e = image->example;
  SetBytes(&e, "image/segmentation/class/predicted", std::move(png));
  SetBytes(&e, "image/segmentation/class/predicted/format", "png");
  SetFloatList(&e, "image/segmentation/class/fraction", ClassFractions(map, static_cast<int>(num_classes_)));
  AddDetectionKeys(&e, RegionBoxes(regions), map.rows, map.cols, /*with_masks=*/false);
  if (!options().coco_results.empty()) image->coco_results = CocoRegionResults(regions, map.rows, map.cols);
  image->detections = static_cast<int64_t>(regions.size());
  if (sink_) {
    image->deliver = [sink = &sink_, maps = std::move(maps)](const PipelineImage& im) {
      (*sink)({im.item.source, im.name, &im.example, im.bgr, maps.class_map, maps.probability});
    };
  }
}

void NormalizeImages(const std::vector<PipelineImage*>& images, size_t begin, size_t end, const float mean[3],
                     const float stdev[3], float* out) {
  const int64_t n = static_cast<int64_t>(end - begin);
  const int h = images[begin]->bgr.rows, w = images[begin]->bgr.cols;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < n * h; ++row) {
    const uint8_t* src = images[begin + static_cast<size_t>(row / h)]->bgr.ptr<uint8_t>(static_cast<int>(row % h));
    float* dst = out + row * w * 3;
    for (int x0 = 0; x0 < w; ++x0) {
      for (int c = 0; c < 3; ++c) dst[3 * x0 + c] = (static_cast<float>(src[3 * x0 + 2 - c]) / 255.0f - mean[c]) / stdev[c];
    }
  }
}

ClassMaps ResizedClassMaps(const LogitsView& logits, int h, int w) {
  ClassMaps m;
  m.class_map.create(h, w, CV_8UC1);
  m.probability.create(h, w, CV_32FC1);
  // One range of rows per thread: each call sets up its interpolation taps once.
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t first = h * t / threads, last = h * (t + 1) / threads;
    if (first < last) ResizedClassArgmax(logits, h, w, first, last, m.class_map.data, m.probability.ptr<float>());
  }
  return m;
}

}  // namespace segtune
