#include "segtune/export/detection_bundle.h"
#include "segtune/inference/inference.h"
#include "segtune/inference/torch/detection_inference.h"
#include "segtune/inference/torch/semantic_inference.h"

namespace segtune {

InferenceSummary RunInference(const InferenceOptions& options) {
  if (IsDetectionBundle(options.model)) return RunDetectionInference(options);
  return RunSemanticInference(options);
}

}  // namespace segtune
