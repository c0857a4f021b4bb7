#include "segtune/runtime/state_dict.h"

#include <cmath>
#include <cstring>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"

namespace segtune {
namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

}  // namespace

StateDict StateDict::Load(const std::filesystem::path& path) {
  StateDict dict;
  dict.path_ = path;
  dict.bytes_ = std::make_shared<const std::string>(ReadFile(path));
  for (auto& t : ParseSafetensorsContents(*dict.bytes_, path).tensors) {
    std::string name = t.name;
    dict.tensors_.emplace(std::move(name), std::move(t));
  }
  return dict;
}

const SafetensorsTensor& StateDict::Find(const std::string& name) const {
  const auto found = tensors_.find(name);
  if (found == tensors_.end()) {
    throw FormatError(path_.string() + ": no tensor '" + name + "' (the weights do not fit the model's architecture)");
  }
  return found->second;
}

const std::vector<int64_t>& StateDict::Shape(const std::string& name) const { return Find(name).shape; }

std::vector<float> StateDict::Floats(const std::string& name, const std::vector<int64_t>& shape) const {
  const SafetensorsTensor& t = Find(name);
  if (t.dtype != TensorDtype::kF32) {
    throw FormatError(path_.string() + ": tensor '" + name + "' is not float32, the only type the LibTorch-free " +
                      "runtime reads (`segtune infer --engine torch` runs other types in LibTorch)");
  }
  if (t.shape != shape) {
    throw FormatError(path_.string() + ": tensor '" + name + "' has shape " + ShapeText(t.shape) + ", expected " +
                      ShapeText(shape));
  }
  std::vector<float> values(t.data.size() / sizeof(float));
  std::memcpy(values.data(), t.data.data(), values.size() * sizeof(float));  // Little-endian hosts only (x86, arm).
  return values;
}

std::unique_ptr<OneDnnConv> LoadConv(const StateDict& dict, const std::string& conv, const std::string& bn, double eps,
                                     const ConvShape& shape, Activation activation) {
  std::vector<float> weights =
      dict.Floats(conv + ".weight", {shape.out, shape.in / shape.groups, shape.kernel_h, shape.kernel_w});
  std::vector<float> bias = dict.Has(conv + ".bias") ? dict.Floats(conv + ".bias", {shape.out}) : std::vector<float>{};
  if (!bn.empty()) {
    const std::vector<float> gamma = dict.Floats(bn + ".weight", {shape.out});
    const std::vector<float> beta = dict.Floats(bn + ".bias", {shape.out});
    const std::vector<float> mean = dict.Floats(bn + ".running_mean", {shape.out});
    const std::vector<float> var = dict.Floats(bn + ".running_var", {shape.out});
    const size_t per_output = weights.size() / static_cast<size_t>(shape.out);
    std::vector<float> folded_bias(static_cast<size_t>(shape.out));
    for (size_t o = 0; o < folded_bias.size(); ++o) {
      const double scale = static_cast<double>(gamma[o]) / std::sqrt(static_cast<double>(var[o]) + eps);
      for (size_t k = 0; k < per_output; ++k) {
        float& w = weights[o * per_output + k];
        w = static_cast<float>(static_cast<double>(w) * scale);
      }
      const double b = bias.empty() ? 0.0 : static_cast<double>(bias[o]);
      folded_bias[o] = static_cast<float>((b - static_cast<double>(mean[o])) * scale + static_cast<double>(beta[o]));
    }
    bias = std::move(folded_bias);
  }
  auto result = std::make_unique<OneDnnConv>(shape, std::move(weights), std::move(bias), activation);
  result->Probe(false);
  result->set_accept_reference(true);  // The runtime has no other way to compute a shape oneDNN declines.
  return result;
}

}  // namespace segtune
