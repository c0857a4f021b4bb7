// The detection models segtune builds (torchvision's Faster R-CNN / Mask R-CNN zoo; the list and its
// facts are config/model_catalog.h: ListDetectionModels, GetDetectionModelInfo), their table for
// `segtune models`, and loading their weights.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "segtune/config/model_catalog.h"
#include "segtune/models/load_state.h"
#include "segtune/models/weights.h"

namespace torch::nn {
class Module;
}

namespace segtune::detection {

// Writes the detection part of `segtune models`: name, parameters (91 COCO classes, as the zoo
// checkpoints), backbone, masks, the torchvision COCO checkpoint that fits, and the description.
void PrintDetectionModelTable(std::ostream& out);

struct DetectionLoadOptions {
  // Transfer surgery: the class-specific layers (and only those) may differ in shape; they keep
  // the model's fresh init and are listed in LoadReport::reinitialized.
  bool transfer = false;
  // Throw FormatError (nothing copied) if the file misses model tensors or has extra ones.
  bool strict = true;
};

// Loads a torchvision detection state dict (e.g. a COCO zoo .pth) into `model` built as
// `model_name`. BatchNorm2d's num_batches_tracked counters, which torchvision's FrozenBatchNorm2d
// checkpoints do not have, are neither required nor reported. Throws FormatError carrying the
// report for missing/unexpected tensors (strict), for a shape mismatch outside the class-specific
// layers, or for any mismatch without `transfer`.
LoadReport LoadDetectionWeights(torch::nn::Module& model, const std::string& model_name, const NamedTensors& tensors,
                                const DetectionLoadOptions& options = {});

}  // namespace segtune::detection
