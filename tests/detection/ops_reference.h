// torchvision reference tensors for the detection building-block tests, generated once per test
// binary by tests/detection/reference/make_ops_reference.py into a temporary directory.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "models/segmentation_reference.h"
#include "segtune/core/error.h"
#include "test_util.h"

namespace segtune::testing {

class OpsReference {
 public:
  static const OpsReference& Get() {
    static OpsReference reference;
    return reference;
  }
  const std::string& error() const { return error_; }  // Empty when generation succeeded.
  std::filesystem::path Path(const std::string& file) const { return dir_.path() / file; }

  // The tensor saved under `key`; fails the calling test (through an exception) if absent.
  const torch::Tensor& operator[](const std::string& key) const {
    auto it = tensors_.find(key);
    if (it == tensors_.end()) throw std::out_of_range("no reference tensor " + key);
    return it->second;
  }

 private:
  OpsReference() {
    const CommandResult result =
        RunPython(SourcePath("tests/detection/reference/make_ops_reference.py") + " '" + dir_.path().string() + "'");
    if (result.exit_code != 0) {
      error_ = "reference generation failed:\n" + result.output;
      return;
    }
    tensors_ = LoadReferenceTensors(dir_.path() / "ops.pt");
  }
  TempDir dir_;
  std::string error_;
  std::map<std::string, torch::Tensor> tensors_;
};

// Asserts in a test body that the reference exists.
#define SEGTUNE_REQUIRE_OPS_REFERENCE()                                                    \
  const ::segtune::testing::OpsReference& ref = ::segtune::testing::OpsReference::Get(); \
  ASSERT_TRUE(ref.error().empty()) << ref.error()

inline bool SameInts(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() && torch::equal(a.to(torch::kLong), b.to(torch::kLong));
}

}  // namespace segtune::testing
