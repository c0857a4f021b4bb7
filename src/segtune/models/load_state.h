// Loading named tensors (a state dict from LoadWeights) into a torch::nn::Module, including
// transfer surgery: a checkpoint trained for 21 classes loaded into a 3-class model copies every
// tensor whose name and shape match and leaves the mismatched head at the model's fresh init.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "segtune/models/weights.h"

namespace torch::nn {
class Module;
}

namespace segtune {

struct LoadOptions {
  // Applied to each file tensor name before matching: the first rule whose `from` is a prefix of
  // the name replaces that prefix with `to` (e.g. {"features.", "backbone."}).
  std::vector<std::pair<std::string, std::string>> prefix_remap;
  // File tensors whose remapped name starts with one of these are ignored (e.g. "fc.", a
  // classification head a segmentation model does not have): not loaded, not "unexpected".
  std::vector<std::string> drop_prefixes;
  // Only model tensors under these prefixes take part (e.g. {"backbone."} to load an ImageNet
  // backbone): the others are neither loaded nor reported missing. Empty = the whole model.
  std::vector<std::string> only_prefixes;
  // Throw if anything is missing or unexpected (mismatched shapes are governed by reinit_mismatched).
  bool strict = false;
  // Transfer surgery: tensors whose shapes differ keep the model's initial values and are listed
  // in LoadReport::reinitialized. If false, any shape mismatch is an error.
  bool reinit_mismatched = false;
  // Parameters and buffers become the file's tensors themselves (Tensor::set_) where dtype, device
  // and shape agree, instead of copies: for a model loaded to run, whose weights are read once
  // (a copy wrote every byte again into fresh memory, ~0.06 s of a 44 MB model). The model then
  // shares memory with `tensors`.
  bool share_storage = false;
};

struct ShapeMismatch {
  std::string name;
  std::vector<int64_t> file_shape;
  std::vector<int64_t> model_shape;
};

struct LoadReport {
  std::vector<std::string> loaded;         // Copied from the file (model names).
  std::vector<std::string> missing;        // In the model, not in the file.
  std::vector<std::string> unexpected;     // In the file (after remap), not in the model.
  std::vector<ShapeMismatch> mismatched;   // In both, with different shapes.
  std::vector<std::string> reinitialized;  // Left at the model's fresh init because of a mismatch.
  std::vector<std::string> dropped;        // File tensors ignored through drop_prefixes.
  // A few lines: counts, then every missing/unexpected/mismatched/re-initialised name.
  std::string ToString() const;
};

// Copies the tensors of `tensors` into the parameters and buffers (BatchNorm running stats and
// num_batches_tracked included) of `module`, matched by state-dict name after the options' remap.
// Values are copied bit-identically when dtypes agree (converted otherwise) without touching
// autograd history. Throws FormatError carrying the full report if `strict` finds missing or
// unexpected tensors, or on any shape mismatch without reinit_mismatched; nothing is copied then.
LoadReport LoadStateDict(torch::nn::Module& module, const NamedTensors& tensors, const LoadOptions& options = {});

}  // namespace segtune
