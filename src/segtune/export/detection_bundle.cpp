#include "segtune/export/detection_bundle.h"

#include <torch/torch.h>

#include <string>
#include <type_traits>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/models/detection/detection_registry.h"
#include "segtune/models/weights.h"

namespace segtune {

namespace {

// Every serialized field of DetectionModelOptions with its JSON place ("" = top level, or the "rpn" /
// "box" object), in the bundle's key order: one list for both directions, so they cannot drift apart.
// frozen_batch_norm is not serialized: an exported model runs in eval mode, where a trained
// nn.BatchNorm2d equals FrozenBatchNorm2d holding its statistics.
template <typename Options, typename Visit>
void ForEachOptionField(Options& o, Visit&& visit) {
  visit("", "num_classes", o.num_classes);
  visit("", "min_size", o.min_size);
  visit("", "max_size", o.max_size);
  visit("", "image_mean", o.image_mean);
  visit("", "image_std", o.image_std);
  visit("rpn", "pre_nms_top_n_train", o.rpn.pre_nms_top_n_train);
  visit("rpn", "pre_nms_top_n_test", o.rpn.pre_nms_top_n_test);
  visit("rpn", "post_nms_top_n_train", o.rpn.post_nms_top_n_train);
  visit("rpn", "post_nms_top_n_test", o.rpn.post_nms_top_n_test);
  visit("rpn", "nms_thresh", o.rpn.nms_thresh);
  visit("rpn", "fg_iou_thresh", o.rpn.fg_iou_thresh);
  visit("rpn", "bg_iou_thresh", o.rpn.bg_iou_thresh);
  visit("rpn", "batch_size_per_image", o.rpn.batch_size_per_image);
  visit("rpn", "positive_fraction", o.rpn.positive_fraction);
  visit("rpn", "score_thresh", o.rpn.score_thresh);
  visit("box", "fg_iou_thresh", o.box.fg_iou_thresh);
  visit("box", "bg_iou_thresh", o.box.bg_iou_thresh);
  visit("box", "batch_size_per_image", o.box.batch_size_per_image);
  visit("box", "positive_fraction", o.box.positive_fraction);
  visit("box", "bbox_reg_weights", o.box.bbox_reg_weights);
  visit("box", "score_thresh", o.box.score_thresh);
  visit("box", "nms_thresh", o.box.nms_thresh);
  visit("box", "detections_per_img", o.box.detections_per_img);
  visit("", "trainable_backbone_layers", o.trainable_backbone_layers);
}

}  // namespace

nlohmann::ordered_json DetectionOptionsToJson(const detection::DetectionModelOptions& o) {
  nlohmann::ordered_json j;
  ForEachOptionField(o, [&j](const std::string& group, const char* key, const auto& value) {
    (group.empty() ? j[key] : j[group][key]) = value;
  });
  return j;
}

detection::DetectionModelOptions DetectionOptionsFromJson(const nlohmann::json& j,
                                                          detection::DetectionModelOptions o) {
  ForEachOptionField(o, [&j](const std::string& group, const char* key, auto& value) {
    if (!group.empty() && !j.contains(group)) return;
    const nlohmann::json& from = group.empty() ? j : j.at(group);
    if (from.contains(key)) value = from.at(key).template get<std::decay_t<decltype(value)>>();
  });
  return o;
}

std::string DetectionBundleMetadataToJson(const DetectionBundleMetadata& m) {
  nlohmann::ordered_json j;
  j["format_version"] = m.common.format_version;
  j["kind"] = "detection";
  j["architecture"] = m.common.architecture;
  j["num_classes"] = m.common.num_classes;
  j["class_names"] = m.common.class_names;
  j["has_masks"] = m.has_masks;
  j["preprocessing"] = {{"input", "list of RGB [3, H, W] images, any sizes"},
                        {"scale", "pixel / 255 -> [0, 1]"},
                        {"mean", m.options.image_mean},
                        {"std", m.options.image_std},
                        {"resize", "shorter side to min_size, longer side at most max_size (inside the model)"}};
  j["detection_options"] = DetectionOptionsToJson(m.options);
  j["outputs"] = {{"boxes", "[N, 4] x1, y1, x2, y2 in the input image's pixels"},
                  {"scores", "[N]"},
                  {"labels", "[N] class ids (index into class_names)"}};
  if (m.has_masks) j["outputs"]["masks"] = "[N, 1, H, W] probabilities at the input image's size";
  j["weights"] = "model.safetensors";
  j["onnx"] = m.onnx_files;
  j["provenance"] = ProvenanceToJson(m.common);
  return j.dump(2) + "\n";
}

DetectionBundleMetadata DetectionBundleMetadataFromJson(const std::string& text, const std::filesystem::path& source) {
  DetectionBundleMetadata m;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (j.value("kind", "") != "detection") throw FormatError(source, "kind", "expected \"detection\"");
    m.common.format_version = j.at("format_version").get<int>();
    m.common.architecture = j.at("architecture").get<std::string>();
    m.common.num_classes = j.at("num_classes").get<int64_t>();
    m.common.class_names = j.value("class_names", std::vector<std::string>{});
    m.has_masks = j.value("has_masks", false);
    m.onnx_files = j.value("onnx", std::vector<std::string>{});
    if (!detection::IsDetectionModel(m.common.architecture)) {
      throw FormatError(source, "architecture", "expected a detection model, got \"" + m.common.architecture + "\"");
    }
    m.options = DetectionOptionsFromJson(j.value("detection_options", nlohmann::json::object()),
                                         detection::DefaultDetectionOptions(m.common.architecture));
    if (j.contains("provenance")) ProvenanceFromJson(j["provenance"], &m.common);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(source, "", std::string("not a segtune detection model.json (") + e.what() + ")");
  }
  if (m.common.format_version != 1) {
    throw FormatError(source, "format_version", "expected 1, got " + std::to_string(m.common.format_version));
  }
  if (m.options.num_classes != m.common.num_classes) {
    throw FormatError(source, "detection_options.num_classes",
                      "expected " + std::to_string(m.common.num_classes) + " (num_classes), got " +
                          std::to_string(m.options.num_classes));
  }
  for (int c = 0; c < 3 && c < static_cast<int>(m.options.image_mean.size()); ++c) {
    m.common.mean[c] = static_cast<float>(m.options.image_mean[c]);
    m.common.std[c] = static_cast<float>(m.options.image_std.at(c));
  }
  return m;
}

bool IsDetectionBundle(const std::filesystem::path& path) { return BundleKind(path) == "detection"; }

DetectionBundle LoadDetectionBundle(const std::filesystem::path& dir) {
  const auto json_path = dir / "model.json";
  const auto weights_path = dir / "model.safetensors";
  if (!std::filesystem::exists(json_path)) {
    throw IoError(dir.string() + ": not a segtune export directory (model.json missing)");
  }
  DetectionBundle bundle;
  bundle.metadata = DetectionBundleMetadataFromJson(ReadFile(json_path), json_path);
  const std::string& name = bundle.metadata.common.architecture;
  std::future<NamedTensors> weights = LoadWeightsInBackground(weights_path);
  bundle.model = detection::BuildDetectionModel(name, bundle.metadata.options);
  try {
    detection::LoadDetectionWeights(*bundle.model, name, weights.get());
  } catch (const FormatError& e) {
    throw FormatError(weights_path, "", "weights do not fit " + name + ": " + e.what());
  }
  bundle.model->eval();
  return bundle;
}

}  // namespace segtune
