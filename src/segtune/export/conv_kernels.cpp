#include "segtune/export/conv_kernels.h"

#include <torch/torch.h>

#include <algorithm>
#include <set>

#include "segtune/core/error.h"
#include "segtune/export/onednn_conv_kernel.h"
#include "segtune/models/conv_kernel.h"
#include "segtune/models/layers.h"

namespace segtune {

const char* InferenceEngineName(InferenceEngine engine) {
  return engine == InferenceEngine::kOneDnn ? "onednn" : "torch";
}

InferenceEngine ParseInferenceEngine(const std::string& name, const std::string& what) {
  if (name == "torch") return InferenceEngine::kTorch;
  if (name == "onednn") return InferenceEngine::kOneDnn;
  throw UsageError(what + " " + name + ": unknown inference engine; expected torch or onednn");
}

namespace {

using Visit = std::function<void(torch::nn::Module&, const std::string& path)>;

std::string Join(const std::string& path, const std::string& name) { return path.empty() ? name : path + "." + name; }

// `module` (path "") and every module below it, parents before children, with its dotted path.
void ForEachModule(torch::nn::Module& module, const std::string& path, const Visit& visit) {
  visit(module, path);
  for (const auto& child : module.named_children()) ForEachModule(*child.value(), Join(path, child.key()), visit);
}

// The reason `slot` cannot get a kernel, or "" after giving it one.
std::string Install(const ConvSlot& slot, const std::string& path, const std::vector<std::string>& torch_layers) {
  *slot.kernel = nullptr;
  if (std::find(torch_layers.begin(), torch_layers.end(), path) != torch_layers.end()) {
    return "kept in LibTorch as asked (torch_layers)";
  }
  if (slot.bn != nullptr && !slot.bn->folded()) return "its BatchNorm is not folded";
  try {
    *slot.kernel = MakeOneDnnConvKernel(*slot.conv, slot.activation, slot.adds);
  } catch (const KernelUnavailable& e) {
    return e.what();
  }
  return "";
}

}  // namespace

KernelInstallation InstallConvKernels(torch::nn::Module& model, InferenceEngine engine,
                                      const std::vector<std::string>& torch_layers) {
  KernelInstallation done;
  std::map<std::string, std::string> slot_reasons;  // Conv path -> why it has no kernel ("" = it has one).
  ForEachModule(model, "", [&](torch::nn::Module& module, const std::string& path) {
    auto* host = dynamic_cast<ConvKernelHost*>(&module);
    if (host == nullptr) return;
    for (const ConvSlot& slot : host->ConvSlots()) {
      const std::string conv_path = Join(path, slot.path);
      if (engine == InferenceEngine::kTorch) {
        *slot.kernel = nullptr;
        continue;
      }
      slot_reasons[conv_path] = Install(slot, conv_path, torch_layers);
    }
  });
  if (engine == InferenceEngine::kTorch) return done;
  ForEachModule(model, "", [&](torch::nn::Module& module, const std::string& path) {
    if (dynamic_cast<torch::nn::Conv2dImpl*>(&module) == nullptr) return;
    const auto slot = slot_reasons.find(path);
    if (slot == slot_reasons.end()) {
      done.fallbacks.push_back({path, "no kernel slot in its block"});
    } else if (slot->second.empty()) {
      ++done.kernels;
    } else {
      done.fallbacks.push_back({path, slot->second});
    }
  });
  return done;
}

}  // namespace segtune
