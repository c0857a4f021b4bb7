// The one function each plugin (libsegtune_plugin.so, libsegtune_data_plugin.so) exports, called by
// the front end (plugin_loader.cpp) through dlsym. All sides are built from this header in one build.
#pragma once

#include <cstddef>

#include "segtune/cli/verb.h"

// Runs the work registered under `key` (SEGTUNE_PLUGIN_RUN) on `args` with the front end's global
// options, and returns its exit code. Throws segtune::Error (or UsageError) like any verb;
// LibTorch's and OpenCV's own exceptions are turned into segtune::Error inside the plugin, so the
// front end needs neither library to catch them.
extern "C" int segtune_plugin_run(const char* key, const void* args, size_t args_size, const char* args_type,
                                  const segtune::cli::GlobalOptions* globals);

// The symbol name, for dlsym.
inline constexpr const char* kPluginRunSymbol = "segtune_plugin_run";
// The plugins' file names, looked up beside the executable: the one with LibTorch (training, models,
// inference) and the one with only OpenCV (the dataset verbs: convert, validate, coco2tfrecord --from
// ...), which loads in ~0.05 s instead of LibTorch's ~0.4 s.
inline constexpr const char* kPluginFileName = "libsegtune_plugin.so";
inline constexpr const char* kDataPluginFileName = "libsegtune_data_plugin.so";
// The one with OpenCV and oneDNN (the LibTorch-free runtime): `segtune infer` of the models it builds.
inline constexpr const char* kInferPluginFileName = "libsegtune_infer_plugin.so";
