// Front end: loads libsegtune_plugin.so when a verb's work needs LibTorch, libsegtune_data_plugin.so
// when it needs only OpenCV, libsegtune_infer_plugin.so for `segtune infer` in the LibTorch-free
// runtime (verb.h).
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

#include "segtune/cli/plugin_abi.h"
#include "segtune/cli/verb.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/stopwatch.h"

namespace segtune::cli {
namespace {

using PluginRun = decltype(&segtune_plugin_run);

// The plugin beside the executable; SEGTUNE_PLUGIN_PATH (LibTorch plugin), SEGTUNE_DATA_PLUGIN_PATH
// (data plugin) and SEGTUNE_INFER_PLUGIN_PATH (infer plugin) override it (tests of a separate build,
// of a missing plugin).
std::filesystem::path PluginPath(Plugin plugin) {
  const char* variable = plugin == Plugin::kTorch  ? "SEGTUNE_PLUGIN_PATH"
                         : plugin == Plugin::kData ? "SEGTUNE_DATA_PLUGIN_PATH"
                                                   : "SEGTUNE_INFER_PLUGIN_PATH";
  if (const char* path = std::getenv(variable); path != nullptr && *path != '\0') return path;
  const char* file_name = plugin == Plugin::kTorch  ? kPluginFileName
                          : plugin == Plugin::kData ? kDataPluginFileName
                                                    : kInferPluginFileName;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot locate the segtune executable (/proc/self/exe) to find " + std::string(file_name));
  return self.parent_path() / file_name;
}

PluginRun loaded_runs[3] = {nullptr, nullptr, nullptr};  // Indexed by Plugin.

PluginRun LoadPlugin(Plugin plugin) {
  PluginRun& run = loaded_runs[static_cast<int>(plugin)];
  if (run != nullptr) return run;
  const Stopwatch stopwatch;
  const std::filesystem::path path = PluginPath(plugin);
  // OpenCV loads OpenBLAS, whose idle threads spin (sched_yield) for a while after start-up: on 2
  // cores they took a core from the dataset verbs' own threads, which never call BLAS. The user's
  // setting wins (0: not overwritten); the LibTorch plugin keeps BLAS threads for training.
  if (plugin != Plugin::kTorch) setenv("OPENBLAS_NUM_THREADS", "1", 0);
  // RTLD_LOCAL: the plugin's LibTorch and OpenCV symbols stay its own; it finds segtune's shared
  // layers (libsegtune_core.so, libsegtune_formats.so) through its own dependencies, the same copies
  // the executable uses, so logging, input limits and interrupt cleanup are shared.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    throw Error(path.string() + ": cannot load segtune's plugin (the verbs that need LibTorch or OpenCV): " +
                dlerror() + " (expected beside the segtune executable; rebuild with `make build`)");
  }
  run = reinterpret_cast<PluginRun>(dlsym(handle, kPluginRunSymbol));
  if (run == nullptr) throw Error(path.string() + ": not a segtune plugin (no " + kPluginRunSymbol + ")");
  Debug("loaded " + path.string() + " in " + std::to_string(int(stopwatch.Seconds() * 1000)) + " ms");
  return run;
}

}  // namespace

bool LibTorchPluginLoaded() { return loaded_runs[0] != nullptr; }

int RunPluginWork(Plugin plugin, const std::string& key, const void* args, size_t args_size, const char* args_type) {
  return LoadPlugin(plugin)(key.c_str(), args, args_size, args_type, &Globals());
}

}  // namespace segtune::cli
