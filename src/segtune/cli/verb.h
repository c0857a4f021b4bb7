// How a verb plugs into the `segtune` command line.
//
// Each verb lives in one file of cli/ and registers itself:
//
//   namespace {
//   segtune::cli::Runner Setup(CLI::App& app) {
//     auto opts = std::make_shared<Options>();
//     app.add_option("input", opts->input, "...")->required();
//     return [opts] { return segtune::DoTheThing(*opts); };  // Returns the exit code.
//   }
//   }  // namespace
//   SEGTUNE_VERB(labelbox2coco, 10, "Convert a Labelbox export to COCO JSON", Setup);
//
// The verb parses options and calls one library function; the logic lives in the library. Errors
// are thrown (segtune::Error and subclasses); main() prints them and chooses the exit code.
// `order` sorts `segtune --help` in workflow order (10s dataset, 20s records, 30s config/train,
// 40s export/inspect, 50s infer/eval, 60s models/weights, 90s utilities).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

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

}  // namespace segtune::cli

#define SEGTUNE_VERB(name, order, summary, setup)                                               \
  static const bool segtune_verb_registered_##name [[maybe_unused]] =                          \
      ::segtune::cli::RegisterVerb({#name, order, summary, setup})
