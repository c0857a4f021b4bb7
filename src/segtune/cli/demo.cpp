// `segtune demo`: the whole workflow on generated data, running the real verbs and printing each one.
#include <thread>

#include "segtune/cli/verb.h"
#include "segtune/apps/demo.h"  // Options types only.
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>
#endif

namespace {

struct Options {
  segtune::DemoOptions demo;
  std::string scale = "full";
};

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("--workdir", opts->demo.workdir, "Directory for every file the demo writes (new, empty, or an "
                                                  "earlier demo's)")->required();
  app.add_option("--scale", opts->scale, "full (minutes) or small (a reduced run, seconds)")->capture_default_str();
  app.add_option("--seed", opts->demo.seed, "Dataset seed: source set SEED, target set SEED+1")->capture_default_str();
  app.footer(
      "Generates a source set (balls, cups, signs) and a small target set (bottles, cans, boxes), pre-trains on the\n"
      "source set, fine-tunes on the target set and trains the same from scratch, then prints both mIoUs.\n"
      "Every step runs this segtune binary and is printed first (\"+ segtune ...\"); workdir/commands.sh lists them.");
  return segtune::cli::InPlugin("demo", opts);
}

#if SEGTUNE_PLUGIN
int Run(const Options& opts) {
  segtune::DemoOptions demo = opts.demo;
  demo.scale = segtune::ParseDemoScale(opts.scale);
  demo.segtune_binary = "/proc/self/exe";
  const auto& g = segtune::cli::Globals();
  if (g.threads != int(std::thread::hardware_concurrency())) {  // Set by --threads: the steps get it too.
    demo.global_args = {"--threads", std::to_string(g.threads)};
  }
  if (g.device != "cpu") demo.global_args.insert(demo.global_args.end(), {"--device", g.device});
  const segtune::DemoResult result = segtune::RunDemo(demo);
  std::cout << "finetuned_miou=" << result.finetuned_miou << " scratch_miou=" << result.scratch_miou << "\n";
  return 0;
}
#endif

}  // namespace

SEGTUNE_VERB(demo, 95, "Run the whole workflow on generated data, fine-tuned vs from scratch", Setup);
SEGTUNE_PLUGIN_RUN(demo, Options, Run);
