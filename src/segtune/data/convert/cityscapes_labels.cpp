#include "segtune/data/convert/cityscapes_labels.h"

namespace segtune {

const std::vector<CityscapesLabel>& CityscapesLabels() {
  // name, id, trainId, category, hasInstances, ignoreInEval: as cityscapesScripts defines them.
  static const std::vector<CityscapesLabel> labels = {
      {"unlabeled", 0, 255, "void", false, true},
      {"ego vehicle", 1, 255, "void", false, true},
      {"rectification border", 2, 255, "void", false, true},
      {"out of roi", 3, 255, "void", false, true},
      {"static", 4, 255, "void", false, true},
      {"dynamic", 5, 255, "void", false, true},
      {"ground", 6, 255, "void", false, true},
      {"road", 7, 0, "flat", false, false},
      {"sidewalk", 8, 1, "flat", false, false},
      {"parking", 9, 255, "flat", false, true},
      {"rail track", 10, 255, "flat", false, true},
      {"building", 11, 2, "construction", false, false},
      {"wall", 12, 3, "construction", false, false},
      {"fence", 13, 4, "construction", false, false},
      {"guard rail", 14, 255, "construction", false, true},
      {"bridge", 15, 255, "construction", false, true},
      {"tunnel", 16, 255, "construction", false, true},
      {"pole", 17, 5, "object", false, false},
      {"polegroup", 18, 255, "object", false, true},
      {"traffic light", 19, 6, "object", false, false},
      {"traffic sign", 20, 7, "object", false, false},
      {"vegetation", 21, 8, "nature", false, false},
      {"terrain", 22, 9, "nature", false, false},
      {"sky", 23, 10, "sky", false, false},
      {"person", 24, 11, "human", true, false},
      {"rider", 25, 12, "human", true, false},
      {"car", 26, 13, "vehicle", true, false},
      {"truck", 27, 14, "vehicle", true, false},
      {"bus", 28, 15, "vehicle", true, false},
      {"caravan", 29, 255, "vehicle", true, true},
      {"trailer", 30, 255, "vehicle", true, true},
      {"train", 31, 16, "vehicle", true, false},
      {"motorcycle", 32, 17, "vehicle", true, false},
      {"bicycle", 33, 18, "vehicle", true, false},
  };
  return labels;
}

const CityscapesLabel* CityscapesLabelById(int id) {
  const auto& labels = CityscapesLabels();
  return id >= 0 && id < static_cast<int>(labels.size()) ? &labels[id] : nullptr;  // Ids are 0..33 in order.
}

const CityscapesLabel* CityscapesLabelByTrainId(int train_id) {
  if (train_id == 255) return nullptr;
  for (const auto& label : CityscapesLabels()) {
    if (label.train_id == train_id) return &label;
  }
  return nullptr;
}

}  // namespace segtune
