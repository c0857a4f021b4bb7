// `segtune inspect`: layer table, totals and inputs/outputs; --logdir writes the TensorBoard graph.

#include <optional>
#include <utility>

#include "segtune/cli/verb.h"
#include "segtune/core/dimensions.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>
#include "segtune/export/inspect.h"
#include "segtune/export/onnx_export.h"
#endif

namespace {

struct Options {
  std::string model, model_name, logdir, input_size;
  std::optional<std::pair<int64_t, int64_t>> size;  // --input-size, parsed by the front end.
  int64_t num_classes = 0;
};

segtune::cli::Runner Setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("model", o->model, "Export directory, .onnx file, or checkpoint (with --model)");
  app.add_option("--model", o->model_name, "Model name for a checkpoint (or alone: fresh weights)");
  app.add_option("--num-classes", o->num_classes, "Classes (default: from the checkpoint, else 21)");
  app.add_option("--input-size", o->input_size,
                 "HxW used for shapes and FLOPs (default: the export's model.json size, else 520x520)");
  app.add_option("--logdir", o->logdir, "Also write a TensorBoard event file with the graph here");
  return [o] {  // Usage errors before the plugin loads.
    if (o->model.empty() && o->model_name.empty()) throw segtune::UsageError("inspect: give MODEL or --model NAME");
    if (!o->input_size.empty()) o->size = segtune::ParseTwoDimensions(o->input_size, "--input-size", "HEIGHTxWIDTH", 16384);
    return segtune::cli::RunInPlugin("inspect", *o);
  };
}

#if SEGTUNE_PLUGIN
int Run(const Options& o) {
  segtune::InspectOptions r;
  r.model = o.model;
  r.model_name = o.model_name;
  r.num_classes = o.num_classes;
  if (o.size) r.input_size = *o.size;
  r.log_dir = o.logdir;
  const segtune::InspectResult result = segtune::Inspect(r);
  segtune::PrintLayerTable(result.table, std::cout);
  if (result.model_parameters >= 0) {
    std::cout << "model parameters: " << segtune::WithCommas(result.model_parameters) << "\n";
  }
  if (!result.event_file.empty()) std::cout << result.event_file.string() << "\n";
  return 0;
}
#endif

}  // namespace

SEGTUNE_VERB(inspect, 41, "Print a model's layer table; write its graph for TensorBoard", Setup);
SEGTUNE_PLUGIN_RUN(inspect, Options, Run);
