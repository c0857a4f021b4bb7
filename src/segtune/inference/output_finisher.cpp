#include "segtune/inference/output_finisher.h"

#include "segtune/core/atomic_file.h"
#include "segtune/core/log.h"

namespace segtune {

OutputFinisher::OutputFinisher(const InferenceOptions& options, InferenceSummary& summary, Progress& progress)
    : options_(options), summary_(summary), progress_(progress) {
  if (!options.output.empty()) writer_ = std::make_unique<TFRecordWriter>(options.output);
}

void OutputFinisher::Skip(const PipelineImage& image) {
  CheckSkippable(options_, image.problem);
  Warn("skipped " + image.problem);
  summary_.problems.push_back(image.problem);
  ++summary_.skipped;
}

void OutputFinisher::Finish(PipelineImage& image) {
  if (!image.problem.empty()) return Skip(image);
  // Two records may name the same file; the later one (in input order, so the same on every run) yields.
  while (!used_names_.insert(image.name).second) image.name += "-" + std::to_string(image.item.index);
  if (!options_.masks_dir.empty()) WriteFileAtomic(options_.masks_dir / (image.name + ".png"), image.mask_png);
  if (!options_.overlays_dir.empty()) {
    WriteFileAtomic(options_.overlays_dir / (image.name + ".jpg"), image.overlay_jpeg);
  }
  if (image.deliver) image.deliver(image);
  if (writer_) writer_->Write(image.record);
  if (!options_.coco_results.empty()) {
    const nlohmann::json id = CocoImageId(image.example, image.name);
    for (auto& result : image.coco_results) {
      result["image_id"] = id;
      coco_.push_back(std::move(result));
    }
  }
  summary_.regions += image.detections;
  ++summary_.images;
  progress_.Advance();
}

void OutputFinisher::Close() {
  if (writer_) writer_->Close();
  if (!options_.coco_results.empty()) WriteFileAtomic(options_.coco_results, coco_.dump());
}

}  // namespace segtune
