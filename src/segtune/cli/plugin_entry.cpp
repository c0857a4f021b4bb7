// Plugin side of verb.h: the work of the verbs that need LibTorch or OpenCV, run for the front end.
// Compiled into every plugin: libsegtune_plugin.so (LibTorch and OpenCV) and, without LibTorch
// (SEGTUNE_TORCH_FREE_PLUGIN), libsegtune_data_plugin.so (SEGTUNE_DATA_PLUGIN=1: the dataset verbs)
// and libsegtune_infer_plugin.so (SEGTUNE_INFER_PLUGIN=1: infer in the LibTorch-free runtime).
#include "segtune/cli/verb.h"  // First: it defines SEGTUNE_TORCH_FREE_PLUGIN.

#if !SEGTUNE_TORCH_FREE_PLUGIN
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include "segtune/engine/caching_cpu_allocator.h"
#endif

#include <map>
#include <opencv2/core.hpp>
#include <string>

#include "segtune/cli/plugin_abi.h"
#include "segtune/core/error.h"

namespace segtune::cli {
namespace {

struct PluginRun {
  size_t args_size;
  std::string args_type;
  PluginRunFn run;
};

std::map<std::string, PluginRun>& Runs() {
  static std::map<std::string, PluginRun> runs;
  return runs;
}

// The front end resolved and checked the options; what only LibTorch can do happens here.
void ApplyGlobals(const GlobalOptions& globals) {
  MutableGlobals() = globals;
#if !SEGTUNE_TORCH_FREE_PLUGIN
  // libgomp here defaults to one thread; using every core is ~1.8x faster on 2 cores.
  at::set_num_threads(globals.threads);
  // Training steps and same-size images allocate the same tensor sizes again and again: reusing the
  // blocks saves the page faults of fresh memory (engine/caching_cpu_allocator.h).
  InstallCachingCpuAllocator(DefaultCpuBlockCacheBytes());
  if (globals.device != "cpu" && !torch::cuda::is_available()) {
    throw UsageError("--device " + globals.device + ": this libtorch build has no usable CUDA device; use --device cpu");
  }
#endif
}

}  // namespace

bool RegisterPluginRun(const char* key, size_t args_size, const char* args_type, PluginRunFn run) {
  Runs()[key] = {args_size, args_type, run};
  return true;
}

}  // namespace segtune::cli

extern "C" int segtune_plugin_run(const char* key, const void* args, size_t args_size, const char* args_type,
                                  const segtune::cli::GlobalOptions* globals) {
  using segtune::cli::Runs;
  const auto it = Runs().find(key);
  if (it == Runs().end() || it->second.args_size != args_size || it->second.args_type != args_type) {
    throw segtune::Error(std::string("segtune's plugin does not match this executable (work '") + key +
                         "'): rebuild both with `make build`");
  }
  try {
    segtune::cli::ApplyGlobals(*globals);
    return it->second.run(args);
#if !SEGTUNE_TORCH_FREE_PLUGIN
  } catch (const c10::Error& e) {  // The front end does not link LibTorch, so it could not catch these.
    throw segtune::Error(e.what_without_backtrace());
#endif
  } catch (const cv::Exception& e) {
    throw segtune::Error(std::string("OpenCV: ") + e.what());
  }
}
