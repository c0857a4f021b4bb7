// The Cityscapes label table (cityscapesScripts, helpers/labels.py): what each value of a gtFine
// `*_labelIds.png`, `*_labelTrainIds.png` and `*_instanceIds.png` means. docs/formats.md §17.
#pragma once

#include <string>
#include <vector>

namespace segtune {

struct CityscapesLabel {
  const char* name;
  int id;              // Value in *_labelIds.png (and id * 1000 + n in *_instanceIds.png).
  int train_id;        // Value in *_labelTrainIds.png; 255 = not trained on.
  const char* category;
  bool has_instances;  // Instances are separated in *_instanceIds.png.
  bool ignore_in_eval; // Void, or too rare: segtune makes no annotation of it (an ignore region).
};

// Every label with id >= 0 (the table's "license plate", id -1, never appears in label images).
const std::vector<CityscapesLabel>& CityscapesLabels();
// The label with this id or train id; nullptr if there is none.
const CityscapesLabel* CityscapesLabelById(int id);
const CityscapesLabel* CityscapesLabelByTrainId(int train_id);

}  // namespace segtune
