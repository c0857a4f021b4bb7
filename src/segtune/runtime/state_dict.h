// A model's weights read from model.safetensors without LibTorch (formats/safetensors.h), by
// torchvision parameter name, and the convolutions built from them with their BatchNorm folded.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "segtune/formats/safetensors.h"
#include "segtune/runtime/onednn_conv.h"

namespace segtune {

class StateDict {
 public:
  // Reads and validates the whole file. Throws IoError if it cannot be read, FormatError (naming the
  // file) if it is not valid safetensors.
  static StateDict Load(const std::filesystem::path& path);

  bool Has(const std::string& name) const { return tensors_.count(name) > 0; }
  // The float32 tensor `name`, whose shape must be `shape`. Throws FormatError naming the file and
  // the tensor if it is missing, not float32 or of another shape.
  std::vector<float> Floats(const std::string& name, const std::vector<int64_t>& shape) const;
  // The shape of tensor `name` (FormatError naming the file if it is missing).
  const std::vector<int64_t>& Shape(const std::string& name) const;
  const std::filesystem::path& path() const { return path_; }

 private:
  const SafetensorsTensor& Find(const std::string& name) const;
  std::filesystem::path path_;
  std::shared_ptr<const std::string> bytes_;  // The file; tensors_' data views point into it.
  std::map<std::string, SafetensorsTensor> tensors_;
};

// The convolution `<conv>.weight` (+ `<conv>.bias` when present) of `shape`, with the BatchNorm
// `<bn>.{weight,bias,running_mean,running_var}` folded in when `bn` is not empty (eps as the model
// sets it), and `activation` after it: w * g / sqrt(var + eps), (b - mean) * g / sqrt(var + eps) + beta,
// computed in double as export/bn_fold.h does for the LibTorch path.
std::unique_ptr<OneDnnConv> LoadConv(const StateDict& dict, const std::string& conv, const std::string& bn, double eps,
                                     const ConvShape& shape, Activation activation);

}  // namespace segtune
