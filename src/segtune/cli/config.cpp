// `segtune config init` / `segtune config check`: write and validate pipeline configs.

#include "segtune/cli/verb.h"
#include "segtune/core/error.h"
#include "segtune/config/config_init.h"  // Options types only: the front end links no config code.
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>

#include "segtune/engine/config_check.h"
#endif

namespace {

struct Options {
  segtune::ConfigInitOptions init;
  std::filesystem::path check_path;
  bool run_init = false;  // init, else check.
};

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.require_subcommand(1, 1);
  CLI::App* init = app.add_subcommand("init", "Write a commented, ready-to-run pipeline config");
  init->add_option("--model", opts->init.model, "Architecture (see `segtune models`)")->capture_default_str();
  init->add_option("--label-map,--label_map_path", opts->init.label_map, "label_map.pbtxt")->required();
  init->add_option("--train", opts->init.train, "Training TFRecords (path, glob or PREFIX@N)")->required();
  init->add_option("--val", opts->init.val, "Validation TFRecords");
  init->add_option("--checkpoint", opts->init.checkpoint, "Pretrained weights (.pth / .safetensors)");
  init->add_option("-o,--output", opts->init.output, "Config file to write")->required();
  init->add_option("--batch-size", opts->init.batch_size, "Batch size")->capture_default_str();
  init->add_option("--num-steps", opts->init.num_steps, "Training steps")->capture_default_str();
  init->add_flag("--overwrite", opts->init.overwrite,
                 "Replace a previous pipeline config of this name; files that are not pipeline configs are "
                 "never replaced");
  init->add_option("--input-size", opts->init.input_size,
                   "Training crop / input size (default 512); detection models: images fit in this square "
                   "(min_size = max_size), default torchvision's sizes");
  CLI::App* check = app.add_subcommand("check", "Validate a pipeline config: paths, classes, model vs checkpoint");
  check->add_option("config", opts->check_path, "Pipeline config")->required();
  return [opts, init] {
    opts->run_init = init->parsed();
    return segtune::cli::RunInPlugin("config", *opts);
  };
}

#if SEGTUNE_PLUGIN
int Run(const Options& opts) {
  if (opts.run_init) {
    segtune::WritePipelineConfig(opts.init);
    std::cout << "wrote " << opts.init.output.string() << "\n";
    return 0;
  }
  const segtune::ConfigCheckReport report = segtune::CheckPipelineConfig(opts.check_path);
  for (const auto& n : report.notes) std::cout << "ok: " << n << "\n";
  for (const auto& w : report.warnings) std::cout << "warning: " << w << "\n";
  for (const auto& e : report.errors) std::cout << "error: " << e << "\n";
  std::cout << opts.check_path.string() << ": " << (report.ok() ? "OK" : "has errors") << "\n";
  return report.ok() ? 0 : 1;
}
#endif

}  // namespace

SEGTUNE_VERB(config, 30, "Write (init) or validate (check) a pipeline config", Setup);
SEGTUNE_PLUGIN_RUN(config, Options, Run);
