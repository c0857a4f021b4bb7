#include "segtune/models/load_state.h"

#include <torch/torch.h>

#include <map>
#include <set>
#include <sstream>

#include "segtune/core/error.h"

namespace segtune {
namespace {

bool StartsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

bool UnderAny(const std::string& name, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (StartsWith(name, p)) return true;
  }
  return false;
}

std::string Remap(const std::string& name, const LoadOptions& options) {
  for (const auto& [from, to] : options.prefix_remap) {
    if (StartsWith(name, from)) return to + name.substr(from.size());
  }
  return name;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

void AppendList(std::ostringstream& out, const char* title, const std::vector<std::string>& names) {
  if (names.empty()) return;
  out << title << " (" << names.size() << "):";
  for (const auto& n : names) out << "\n  " << n;
  out << "\n";
}

}  // namespace

std::string LoadReport::ToString() const {
  std::ostringstream out;
  out << "loaded " << loaded.size() << " tensors; " << missing.size() << " missing, " << unexpected.size()
      << " unexpected, " << mismatched.size() << " shape mismatches, " << reinitialized.size()
      << " re-initialised, " << dropped.size() << " dropped\n";
  AppendList(out, "missing from the file (kept at init)", missing);
  AppendList(out, "unexpected in the file (ignored)", unexpected);
  if (!mismatched.empty()) {
    out << "shape mismatches (" << mismatched.size() << "):";
    for (const auto& m : mismatched) out << "\n  " << m.name << ": file " << ShapeText(m.file_shape) << ", model " << ShapeText(m.model_shape);
    out << "\n";
  }
  AppendList(out, "re-initialised (transfer surgery)", reinitialized);
  return out.str();
}

LoadReport LoadStateDict(torch::nn::Module& module, const NamedTensors& tensors, const LoadOptions& options) {
  // The model's state dict: parameters then buffers, by their dotted names.
  std::vector<std::pair<std::string, torch::Tensor>> targets;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) targets.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true)) targets.emplace_back(item.key(), item.value());

  LoadReport report;
  std::map<std::string, const torch::Tensor*> file;
  for (const auto& [name, tensor] : tensors.items) {
    const std::string mapped = Remap(name, options);
    if (UnderAny(mapped, options.drop_prefixes)) {
      report.dropped.push_back(mapped);
      continue;
    }
    file[mapped] = &tensor;
  }
  std::set<std::string> used;
  std::vector<std::pair<torch::Tensor, const torch::Tensor*>> copies;
  for (const auto& [name, target] : targets) {
    if (!options.only_prefixes.empty() && !UnderAny(name, options.only_prefixes)) continue;
    auto it = file.find(name);
    if (it == file.end()) {
      report.missing.push_back(name);
      continue;
    }
    used.insert(name);
    const torch::Tensor& source = *it->second;
    if (source.sizes() != target.sizes()) {
      report.mismatched.push_back({name, source.sizes().vec(), target.sizes().vec()});
      if (options.reinit_mismatched) report.reinitialized.push_back(name);
      continue;
    }
    copies.emplace_back(target, &source);
    report.loaded.push_back(name);
  }
  for (const auto& [name, tensor] : file) {
    const bool in_scope = options.only_prefixes.empty() || UnderAny(name, options.only_prefixes);
    if (!used.count(name) && in_scope) report.unexpected.push_back(name);
  }
  const bool bad_shapes = !report.mismatched.empty() && !options.reinit_mismatched;
  const bool incomplete = options.strict && (!report.missing.empty() || !report.unexpected.empty());
  if (bad_shapes || incomplete) {
    throw FormatError(std::string("weights do not fit the model") +
                      (bad_shapes ? " (shape mismatches; allow them with transfer re-initialisation)" : "") + ":\n" +
                      report.ToString());
  }
  torch::NoGradGuard no_grad;
  for (auto& [target, source] : copies) {
    const bool share = options.share_storage && source->scalar_type() == target.scalar_type() &&
                       source->device() == target.device();
    if (share) {
      target.set_(*source);
    } else {
      target.copy_(*source);
    }
  }
  return report;
}

}  // namespace segtune
