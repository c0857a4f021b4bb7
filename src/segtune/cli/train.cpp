// `segtune train`: fine-tune a segmentation model as a pipeline config describes.
#include <iostream>

#include "segtune/cli/verb.h"
#include "segtune/engine/trainer.h"

namespace {

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<segtune::TrainOptions>();
  app.add_option("--pipeline-config,--pipeline_config_path", opts->pipeline_config,
                 "Pipeline config (protobuf text; segtune or TF OD API layout)")
      ->required();
  app.add_option("--train-dir,--train_dir,--model_dir", opts->train_dir,
                 "Directory for checkpoints, metrics.csv and TensorBoard events")
      ->required();
  app.add_flag("--resume", opts->resume, "Continue from the newest checkpoint in --train-dir (bit-for-bit)");
  app.add_option("--num-steps,--num_train_steps", opts->num_steps, "Override train_config.num_steps");
  app.footer("Ctrl-C saves a checkpoint and exits; continue with --resume. See docs/training.md.");
  return [opts] {
    opts->threads = segtune::cli::Globals().threads;
    opts->device = segtune::cli::Globals().device;
    const segtune::TrainResult result = segtune::Train(*opts);
    std::cout << "trained " << result.last_step << " steps"
              << (result.interrupted ? " (interrupted)" : "") << "; checkpoint "
              << result.last_checkpoint.string() << "\n";
    return 0;
  };
}

}  // namespace

SEGTUNE_VERB(train, 35, "Fine-tune a segmentation model from TFRecords as a pipeline config describes", Setup);
