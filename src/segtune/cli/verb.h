// How a verb plugs into the `segtune` command line.
//
// Each verb lives in one file of cli/ and registers itself:
//
//   namespace {
//   segtune::cli::Runner Setup(CLI::App& app) {
//     auto opts = std::make_shared<Options>();
//     app.add_option("input", opts->input, "...")->required();
//     return [opts] {
//       std::cout << segtune::FormatThing(segtune::DoTheThing(*opts));  // The library returns, the verb prints.
//       return 0;                                                      // The exit code.
//     };
//   }
//   }  // namespace
//   SEGTUNE_VERB(labelbox2coco, 10, "Convert a Labelbox export to COCO JSON", Setup);
//
// Work that needs LibTorch or OpenCV runs in the plugin, libsegtune_plugin.so beside the binary,
// loaded only when such work runs: `segtune --help`, every verb's --help and the light verbs
// (labelmap, records info, coco-eval, ...) then start in milliseconds (docs/architecture.md). Such a
// verb keeps its options in the front end and its work in the plugin, in the same file:
//
//   struct Args { ... };                       // Plain data, filled by CLI11, read by Run.
//   segtune::cli::Runner Setup(CLI::App& app) {
//     auto args = std::make_shared<Args>();
//     app.add_option("input", args->input, "...")->required();
//     return segtune::cli::InPlugin("train", args);
//   }
//   #if SEGTUNE_PLUGIN
//   int Run(const Args& args) { ... }  // Plugin only: as the lambda above.
//   #endif
//   SEGTUNE_VERB(train, 35, "Fine-tune ...", Setup);  // Front end only.
//   SEGTUNE_PLUGIN_RUN(train, Args, Run);              // Plugin only.
//
// The file is compiled twice, into the executable (SEGTUNE_PLUGIN=0) and into the plugin
// (SEGTUNE_PLUGIN=1), so both see one definition of Args; includes that only Run needs go inside
// the #if, which keeps LibTorch and OpenCV headers out of the front end.
//
// Work that needs OpenCV but not LibTorch (the dataset verbs) runs in the data plugin,
// libsegtune_data_plugin.so, which starts ~8x faster (no LibTorch to load): use InDataPlugin /
// RunInDataPlugin in Setup and SEGTUNE_DATA_PLUGIN_RUN instead of SEGTUNE_PLUGIN_RUN. That file is
// compiled into the data plugin (SEGTUNE_PLUGIN=1, SEGTUNE_DATA_PLUGIN=1) instead of the LibTorch one,
// and its Run must not use LibTorch (the data plugin is linked with --no-undefined, so it would not link).
//
// The verb parses options and calls one library function; the logic lives in the library, which
// returns results and never prints to stdout: the verb prints them and decides the exit code (so
// tests and other callers get the numbers, not text). Errors are thrown (segtune::Error and
// subclasses); main() prints them and chooses the exit code.
// `order` sorts `segtune --help` in workflow order (10s dataset, 20s records, 30s config/train,
// 40s export/inspect, 50s infer/eval, 60s models/weights, 90s utilities).
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#ifndef SEGTUNE_PLUGIN
#define SEGTUNE_PLUGIN 0
#endif

namespace segtune::cli {

using Runner = std::function<int()>;
using SetupFn = Runner (*)(CLI::App& app);

struct VerbInfo {
  std::string name;
  int order;
  std::string summary;
  SetupFn setup;
};

// Options every verb sees; filled in by main() before a Runner runs.
struct GlobalOptions {
  int threads = 0;             // Threads in use (resolved: never 0 once main() has run).
  std::string device = "cpu";  // "cpu", "cuda" or "cuda:N".
};
const GlobalOptions& Globals();
GlobalOptions& MutableGlobals();

// Adds a verb at static-initialisation time. Returns true so it can initialise a global.
bool RegisterVerb(VerbInfo info);
// All registered verbs, sorted by (order, name).
std::vector<VerbInfo> RegisteredVerbs();

// The plugins: kTorch = libsegtune_plugin.so (LibTorch and OpenCV), kData =
// libsegtune_data_plugin.so (OpenCV only), kInfer = libsegtune_infer_plugin.so (OpenCV and oneDNN:
// `segtune infer` of the models the LibTorch-free runtime builds).
enum class Plugin { kTorch, kData, kInfer };

// What the infer plugin's work returns when the LibTorch-free runtime cannot run the options: the
// front end then runs the LibTorch plugin's work instead (never an exit code).
inline constexpr int kRunInLibTorchPlugin = -1000;

// Front end: runs `plugin`'s work `key` on `args` (plugin_loader.cpp). `args_size` and `args_type`
// must match what the plugin registered under `key`: a front end and plugin from different builds
// fail with a clear error instead of reading the wrong layout.
int RunPluginWork(Plugin plugin, const std::string& key, const void* args, size_t args_size, const char* args_type);

// Front end: true once the LibTorch plugin is loaded (main() then ends the process without unloading
// LibTorch: see main.cpp).
bool LibTorchPluginLoaded();

// Front end: runs the LibTorch plugin's work `key` on `args` and returns its exit code.
template <typename Args>
int RunInPlugin(const char* key, const Args& args) {
  return RunPluginWork(Plugin::kTorch, key, &args, sizeof(Args), typeid(Args).name());
}

// Front end: runs the data plugin's work `key` (SEGTUNE_DATA_PLUGIN_RUN) on `args`.
template <typename Args>
int RunInDataPlugin(const char* key, const Args& args) {
  return RunPluginWork(Plugin::kData, key, &args, sizeof(Args), typeid(Args).name());
}

// Front end: runs the infer plugin's work `key` (SEGTUNE_INFER_PLUGIN_RUN) on `args`, or the LibTorch
// plugin's work `key` when it returns kRunInLibTorchPlugin.
template <typename Args>
int RunInInferPlugin(const char* key, const Args& args) {
  const int code = RunPluginWork(Plugin::kInfer, key, &args, sizeof(Args), typeid(Args).name());
  return code == kRunInLibTorchPlugin ? RunInPlugin(key, args) : code;
}

// Front end: a Runner that runs the LibTorch plugin's work `key` on *args once CLI11 has filled it.
template <typename Args>
Runner InPlugin(const char* key, std::shared_ptr<Args> args) {
  return [key, args] { return RunInPlugin(key, *args); };
}

// Front end: as InPlugin, for the data plugin's work.
template <typename Args>
Runner InDataPlugin(const char* key, std::shared_ptr<Args> args) {
  return [key, args] { return RunInDataPlugin(key, *args); };
}

// Plugin: adds the work `key` at load time (plugin_entry.cpp). Returns true to initialise a global.
using PluginRunFn = int (*)(const void* args);
bool RegisterPluginRun(const char* key, size_t args_size, const char* args_type, PluginRunFn run);

}  // namespace segtune::cli

#ifndef SEGTUNE_DATA_PLUGIN
#define SEGTUNE_DATA_PLUGIN 0
#endif
#ifndef SEGTUNE_INFER_PLUGIN
#define SEGTUNE_INFER_PLUGIN 0
#endif
// The plugins built without LibTorch: the data plugin and the infer plugin.
#define SEGTUNE_TORCH_FREE_PLUGIN (SEGTUNE_DATA_PLUGIN || SEGTUNE_INFER_PLUGIN)

#define SEGTUNE_REGISTER_PLUGIN_RUN_(key, Args, run)                                             \
  static const bool segtune_plugin_run_##key [[maybe_unused]] = ::segtune::cli::RegisterPluginRun( \
      #key, sizeof(Args), typeid(Args).name(), [](const void* a) { return run(*static_cast<const Args*>(a)); })
#if SEGTUNE_PLUGIN
#define SEGTUNE_VERB(name, order, summary, setup)
#if SEGTUNE_DATA_PLUGIN
#define SEGTUNE_PLUGIN_RUN(key, Args, run)
#define SEGTUNE_DATA_PLUGIN_RUN(key, Args, run) SEGTUNE_REGISTER_PLUGIN_RUN_(key, Args, run)
#define SEGTUNE_INFER_PLUGIN_RUN(key, Args, run)
#elif SEGTUNE_INFER_PLUGIN
#define SEGTUNE_PLUGIN_RUN(key, Args, run)
#define SEGTUNE_DATA_PLUGIN_RUN(key, Args, run)
#define SEGTUNE_INFER_PLUGIN_RUN(key, Args, run) SEGTUNE_REGISTER_PLUGIN_RUN_(key, Args, run)
#else
#define SEGTUNE_PLUGIN_RUN(key, Args, run) SEGTUNE_REGISTER_PLUGIN_RUN_(key, Args, run)
#define SEGTUNE_DATA_PLUGIN_RUN(key, Args, run)
#define SEGTUNE_INFER_PLUGIN_RUN(key, Args, run)
#endif
#else
#define SEGTUNE_VERB(name, order, summary, setup)                                               \
  static const bool segtune_verb_registered_##name [[maybe_unused]] =                          \
      ::segtune::cli::RegisterVerb({#name, order, summary, setup})
#define SEGTUNE_PLUGIN_RUN(key, Args, run)
#define SEGTUNE_DATA_PLUGIN_RUN(key, Args, run)
#define SEGTUNE_INFER_PLUGIN_RUN(key, Args, run)
#endif
