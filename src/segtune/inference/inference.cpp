#include "segtune/inference/inference.h"

#include <cstdio>

#include "segtune/export/detection_bundle.h"
#include "segtune/inference/detection_inference.h"
#include "segtune/inference/semantic_inference.h"

namespace segtune {

InferenceSummary RunInference(const InferenceOptions& options) {
  if (IsDetectionBundle(options.model)) return RunDetectionInference(options);
  return RunSemanticInference(options);
}

std::string FormatInferenceProblems(const InferenceSummary& summary) {
  if (summary.problems.empty()) return "";
  std::string text = "skipped " + std::to_string(summary.skipped) + " unreadable item(s):\n";
  for (const auto& p : summary.problems) text += "  " + p + "\n";
  return text;
}

std::string FormatStageSeconds(const InferenceSummary& summary) {
  std::string text;
  char part[64];
  for (const auto& [stage, seconds] : summary.stage_seconds) {
    std::snprintf(part, sizeof part, "%s%s %.2f s", text.empty() ? "" : ", ", stage.c_str(), seconds);
    text += part;
  }
  return text;
}

}  // namespace segtune
