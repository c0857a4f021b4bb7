// `segtune train`: fine-tune a segmentation or detection model as a pipeline config describes.

#include "segtune/cli/skip_corrupt.h"
#include "segtune/cli/verb.h"
#include "segtune/engine/distributed_env.h"
#include "segtune/engine/trainer.h"  // Options types only.
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>

#include "segtune/data/opencv_codecs.h"
#include "segtune/engine/launcher.h"
#endif

namespace {

struct Options {
  segtune::TrainOptions train;
  int nproc = 1;
  bool sync_bn = false;
};

segtune::cli::Runner Setup(CLI::App& app) {
  auto all = std::make_shared<Options>();
  segtune::TrainOptions* opts = &all->train;
  app.add_option("--pipeline-config,--pipeline_config_path", opts->pipeline_config,
                 "Pipeline config (protobuf text; segtune or TF OD API layout)")
      ->required();
  app.add_option("--train-dir,--train_dir,--model_dir", opts->train_dir,
                 "Directory for checkpoints, metrics.csv and TensorBoard events")
      ->required();
  segtune::cli::AddSkipCorruptFlag(app);
  app.add_flag("--resume", opts->resume, "Continue from the newest checkpoint in --train-dir (bit-for-bit)");
  app.add_flag("--overwrite", opts->overwrite,
               "Start a new run in a --train-dir that holds a previous run (metrics.csv): its checkpoints and "
               "metrics.csv are removed. Without --resume or --overwrite the directory must be new or empty");
  app.add_option("--num-steps,--num_train_steps", opts->num_steps, "Override train_config.num_steps");
  app.add_option("--nproc-per-node,--nproc_per_node", all->nproc,
                 "Data-parallel: start N worker processes on this host (train_config.batch_size is the global "
                 "batch, split across them). With RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT set (torchrun style), "
                 "this process instead joins that group as one rank")
      ->check(CLI::Range(1, 256));
  app.add_flag("--sync-batch-norm", all->sync_bn,
               "Data-parallel: BatchNorm statistics over the global batch, as one process (SyncBatchNorm)");
  app.add_option("--dist-timeout", opts->distributed_timeout_seconds,
                 "Data-parallel: seconds to wait for a peer (rendezvous, each collective) before failing")
      ->check(CLI::Range(1, 86400));
  app.footer("Ctrl-C saves a checkpoint and exits 130 (SIGTERM: 143); continue with --resume. See docs/training.md.\n"
             "Multi-host: run one process per rank with torchrun's variables RANK, WORLD_SIZE, LOCAL_RANK, "
             "MASTER_ADDR, MASTER_PORT (rank 0 hosts the rendezvous); only rank 0 writes --train-dir. "
             "See docs/distributed.md.");
  return segtune::cli::InPlugin("train", all);
}

#if SEGTUNE_PLUGIN
int Run(const Options& args) {
  segtune::PreloadOpenCvCodecs();  // While the model loads.
  segtune::TrainOptions opts = args.train;
  opts.distributed = segtune::DistributedEnvFromEnvironment();
  opts.distributed.sync_batch_norm = args.sync_bn;
  if (args.nproc > 1 && !opts.distributed.active()) {
    segtune::LaunchOptions launch;
    launch.nproc = args.nproc;
    launch.grace = std::chrono::seconds(opts.distributed_timeout_seconds + 15);
    const int stop_signal = segtune::LaunchLocalWorkers(launch);
    return stop_signal != 0 ? 128 + stop_signal : 0;
  }
  opts.threads = segtune::cli::Globals().threads;
  opts.device = segtune::cli::Globals().device;
  const segtune::TrainResult result = segtune::Train(opts);
  std::cout << "trained " << result.last_step << " steps"
            << (result.interrupted ? " (interrupted)" : "") << "; checkpoint "
            << result.last_checkpoint.string() << "; this run: steps " << result.losses.size() << " data_wait_s "
            << result.data_wait_seconds << " compute_s " << result.compute_seconds << "\n";
  // Saved and resumable, but stopped by the user: 128 + signal, as shells and other tools report it.
  return result.stop_signal != 0 ? 128 + result.stop_signal : 0;
}
#endif

}  // namespace

SEGTUNE_VERB(train, 35, "Fine-tune a segmentation or detection model from TFRecords as a pipeline config describes", Setup);
SEGTUNE_PLUGIN_RUN(train, Options, Run);
