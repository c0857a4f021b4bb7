// Helpers shared by the annotation-format tests (convert_*_test.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "segtune/data/convert/labeled_dataset.h"

namespace segtune::testing {

// True if some warning of `report` contains `text`.
inline bool Warned(const ConversionReport& report, const std::string& text) {
  for (const auto& w : report.warnings) {
    if (w.ToString().find(text) != std::string::npos) return true;
  }
  return false;
}

// The name of category `id`, or "?".
inline std::string CategoryName(const CocoDataset& coco, int64_t id) {
  for (const auto& c : coco.categories) {
    if (c.id == id) return c.name;
  }
  return "?";
}

}  // namespace segtune::testing
