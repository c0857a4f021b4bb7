#include "segtune/export/semantic_bundle.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/models/layers.h"
#include "segtune/models/load_state.h"
#include "segtune/models/semantic_registry.h"
#include "segtune/models/weights.h"

namespace segtune {

std::string SemanticBundleMetadataToJson(const SemanticBundleMetadata& m) {
  nlohmann::ordered_json j;
  j["format_version"] = m.format_version;
  j["architecture"] = m.architecture;
  j["num_classes"] = m.num_classes;
  j["class_names"] = m.class_names;
  j["preprocessing"] = {{"input", "RGB, NCHW"}, {"scale", "pixel / 255 -> [0, 1]"},
                        {"mean", m.mean}, {"std", m.std}};
  if (m.input_size) j["preprocessing"]["input_size"] = {m.input_size->first, m.input_size->second};
  j["onnx"] = {{"file", "model.onnx"}, {"input_type", m.onnx_input_type}, {"shape", m.onnx_shape},
               {"outputs", {"logits", "classes"}}};
  j["weights"] = "model.safetensors";
  j["provenance"] = ProvenanceToJson(m);
  return j.dump(2) + "\n";
}

SemanticBundleMetadata SemanticBundleMetadataFromJson(const std::string& text, const std::filesystem::path& source) {
  SemanticBundleMetadata m;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    m.format_version = j.at("format_version").get<int>();
    m.architecture = j.at("architecture").get<std::string>();
    m.num_classes = j.at("num_classes").get<int64_t>();
    m.class_names = j.value("class_names", std::vector<std::string>{});
    m.mean = j.at("preprocessing").at("mean").get<std::array<float, 3>>();
    m.std = j.at("preprocessing").at("std").get<std::array<float, 3>>();
    if (j["preprocessing"].contains("input_size")) {
      const auto hw = j["preprocessing"]["input_size"].get<std::array<int64_t, 2>>();
      if (hw[0] < 1 || hw[1] < 1) {
        throw FormatError(source, "preprocessing.input_size", "expected [height, width] >= 1");
      }
      m.input_size = std::make_pair(hw[0], hw[1]);
    }
    if (j.contains("onnx")) {
      m.onnx_input_type = j["onnx"].value("input_type", "");
      m.onnx_shape = j["onnx"].value("shape", "");
    }
    if (j.contains("provenance")) ProvenanceFromJson(j["provenance"], &m);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(source, "", std::string("not a segtune model.json (") + e.what() + ")");
  }
  if (m.format_version != 1) {
    throw FormatError(source, "format_version", "expected 1, got " + std::to_string(m.format_version));
  }
  return m;
}

SemanticBundle LoadSemanticBundle(const std::filesystem::path& dir) {
  const auto json_path = dir / "model.json";
  const auto weights_path = dir / "model.safetensors";
  if (!std::filesystem::exists(json_path)) {
    throw IoError(dir.string() + ": not a segtune export directory (model.json missing)");
  }
  if (BundleKind(dir) == "detection") {
    throw UsageError(dir.string() + ": a detection model's export directory, not a segmentation model's");
  }
  SemanticBundle bundle;
  bundle.metadata = SemanticBundleMetadataFromJson(ReadFile(json_path), json_path);
  std::future<NamedTensors> weights = LoadWeightsInBackground(weights_path);
  {
    const WeightsWillBeLoaded loaded_next;  // Strictly, below.
    bundle.model = CreateSemanticModel(bundle.metadata.architecture, bundle.metadata.num_classes, false);
  }
  LoadOptions options;
  options.strict = true;
  options.share_storage = true;  // Read once, then folded into new tensors.
  try {
    LoadStateDict(*bundle.model, weights.get(), options);
  } catch (const FormatError& e) {
    throw FormatError(weights_path, "", std::string("weights do not fit ") + bundle.metadata.architecture + ": " + e.what());
  }
  bundle.model->eval();
  return bundle;
}

}  // namespace segtune
