#include "segtune/formats/bundle_metadata.h"

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"

namespace segtune {

nlohmann::ordered_json ProvenanceToJson(const BundleMetadata& m) {
  return {{"segtune_version", m.segtune_version}, {"checkpoint", m.checkpoint},
          {"checkpoint_step", m.checkpoint_step}, {"config", m.config_path},
          {"config_sha256", m.config_sha256}, {"dataset_records", m.dataset_records}};
}

void ProvenanceFromJson(const nlohmann::json& p, BundleMetadata* m) {
  m->segtune_version = p.value("segtune_version", "");
  m->checkpoint = p.value("checkpoint", "");
  m->checkpoint_step = p.value("checkpoint_step", int64_t{-1});
  m->config_path = p.value("config", "");
  m->config_sha256 = p.value("config_sha256", "");
  m->dataset_records = p.value("dataset_records", std::map<std::string, int64_t>{});
}

std::string BundleKind(const std::filesystem::path& path) {
  const std::filesystem::path dir = std::filesystem::is_directory(path) ? path : path.parent_path();
  const std::filesystem::path json_path = (dir.empty() ? std::filesystem::path(".") : dir) / "model.json";
  if (!std::filesystem::exists(json_path)) return "";
  try {
    const nlohmann::json j = nlohmann::json::parse(ReadFile(json_path));
    return j.is_object() ? j.value("kind", "segmentation") : "segmentation";
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(json_path, "", std::string("not a segtune model.json (") + e.what() + ")");
  }
}

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

}  // namespace segtune
