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
