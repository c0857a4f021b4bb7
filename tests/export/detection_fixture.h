// Small detection models for the export / infer tests: a randomly initialised model, saved as a
// training checkpoint (engine/checkpoint.h layout) and exported as a bundle.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "segtune/core/atomic_file.h"
#include "segtune/engine/checkpoint.h"
#include "segtune/export/detection_export.h"
#include "segtune/models/detection/generalized_rcnn.h"

namespace segtune::testing {

// `name`'s torchvision defaults with 3 classes (background, cat, dog), at most 20 detections per
// image, and min_size..max_size when min_size > 0 (small images keep Mask R-CNN fast).
inline detection::DetectionModelOptions SmallDetectionOptions(const std::string& name, int64_t min_size = 0,
                                                              int64_t max_size = 0) {
  detection::DetectionModelOptions options = detection::DefaultDetectionOptions(name);
  options.num_classes = 3;
  if (min_size > 0) {
    options.min_size = min_size;
    options.max_size = max_size;
  }
  options.box.detections_per_img = 20;
  return options;
}

// A seeded, randomly initialised model in eval mode.
inline detection::GeneralizedRCNN SmallDetectionModel(const std::string& name,
                                                      const detection::DetectionModelOptions& options,
                                                      uint64_t seed = 5) {
  torch::manual_seed(seed);
  detection::GeneralizedRCNN model = detection::BuildDetectionModel(name, options);
  model->eval();
  return model;
}

inline void SaveCheckpoint(detection::GeneralizedRCNN& model, const std::string& name,
                           const std::filesystem::path& path) {
  CheckpointInfo info;
  info.step = 12;
  info.metadata["architecture"] = name;
  SaveTrainingCheckpoint(path, *model, nullptr, info);
}

inline void WriteCatDogLabelMap(const std::filesystem::path& path) {
  WriteFileAtomic(path, "item {\n  id: 1\n  name: 'cat'\n}\nitem {\n  id: 2\n  name: \"dog\"\n}\n");
}

// Checkpoint + label map in `dir`, exported through the library with `model`'s own options into
// dir/export (what `segtune export --model NAME` does with the defaults).
inline std::filesystem::path ExportSmallDetectionModel(detection::GeneralizedRCNN& model, const std::string& name,
                                                       const detection::DetectionModelOptions& options,
                                                       const std::filesystem::path& dir) {
  SaveCheckpoint(model, name, dir / "ckpt-000012.safetensors");
  WriteCatDogLabelMap(dir / "label_map.pbtxt");
  ExportOptions request;
  request.model_name = name;
  request.checkpoint = dir / "ckpt-000012.safetensors";
  request.label_map = dir / "label_map.pbtxt";
  request.output_dir = dir / "export";
  BundleMetadata provenance;
  provenance.checkpoint = request.checkpoint.string();
  return ExportDetectionModel(request, LoadWeights(request.checkpoint), options, provenance);
}

}  // namespace segtune::testing
