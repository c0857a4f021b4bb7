// `segtune export`: a trained checkpoint -> model.onnx + native bundle (export/export_model.h).

#include <optional>
#include <utility>

#include "segtune/cli/verb.h"
#include "segtune/core/dimensions.h"
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>
#include "segtune/export/export_model.h"
#endif

namespace {

struct Options {
  std::string pipeline_config, model, label_map, checkpoint, output_dir, input_type = "float", input_size;
  int64_t num_classes = 0;
  bool overwrite = false;
  std::optional<std::pair<int64_t, int64_t>> size;  // --input-size, parsed by the front end.
};

segtune::cli::Runner Setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("--pipeline-config,--pipeline_config_path", o->pipeline_config,
                 "Pipeline config (gives the model, classes and label map)");
  app.add_option("--checkpoint,--trained_checkpoint_prefix", o->checkpoint, "Checkpoint to export (.pth, .safetensors, ckpt-N)")
      ->required();
  app.add_option("--output-dir,--output_directory,-o,--output", o->output_dir, "Export directory to write")->required();
  app.add_option("--model", o->model, "Model name (without a pipeline config; see segtune models)");
  app.add_option("--num-classes", o->num_classes, "Classes (default: from the config or the checkpoint)");
  app.add_option("--label-map", o->label_map, "label_map.pbtxt to copy and name classes with");
  app.add_option("--input-type", o->input_type, "ONNX input: float (RGB in [0,1]) or uint8 (RGB 0..255)")
      ->capture_default_str();
  app.add_option("--input-size", o->input_size,
                 "HxW: a fixed-size graph (batch 1, constant shapes; needed by OpenCV DNN). Default: dynamic N, H, W");
  app.add_flag("--overwrite", o->overwrite,
               "Replace an existing --output-dir that holds a previous export (model.json); anything else is never "
               "replaced");
  app.footer("Writes OUTPUT/model.onnx, model.safetensors, model.json and label_map.pbtxt (see docs/export.md).");
  return [o] {  // A malformed size is a usage error before the plugin loads.
    if (!o->input_size.empty()) o->size = segtune::ParseTwoDimensions(o->input_size, "--input-size", "HEIGHTxWIDTH", 16384);
    return segtune::cli::RunInPlugin("export", *o);
  };
}

#if SEGTUNE_PLUGIN
int Run(const Options& o) {
  segtune::ExportOptions r;
  r.pipeline_config = o.pipeline_config;
  r.model_name = o.model;
  r.num_classes = o.num_classes;
  r.label_map = o.label_map;
  r.checkpoint = o.checkpoint;
  r.output_dir = o.output_dir;
  r.overwrite = o.overwrite;
  r.input_type = segtune::ParseOnnxInputType(o.input_type);
  if (o.size) r.fixed_size = *o.size;
  std::cout << segtune::ExportModel(r).string() << "\n";
  return 0;
}
#endif

}  // namespace

SEGTUNE_VERB(export, 40, "Export a checkpoint as a frozen inference model (ONNX + native bundle)", Setup);
SEGTUNE_PLUGIN_RUN(export, Options, Run);
