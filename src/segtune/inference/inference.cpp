#include "segtune/inference/inference.h"

#include <cstdio>

namespace segtune {

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
