// `segtune demo`: the whole workflow on generated data, run with the real verbs.
//
// Story: a "source" dataset (balls, cups, signs) stands in for a big public dataset; a model is
// pre-trained on it (the stand-in for a model-zoo checkpoint, which would need the network), then
// fine-tuned on a small "target" dataset (bottles, cans, boxes) and compared with the same training
// from scratch. Each step runs the segtune binary as a child process, exactly as a user would type it,
// and the command is printed first ("+ segtune ...") so a reader can copy it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace segtune {

enum class DemoScale { kSmall, kFull };
// "small" or "full"; throws UsageError otherwise.
DemoScale ParseDemoScale(const std::string& text);

// Sizes of one demo run. Fine-tuned and from-scratch training share every setting but the checkpoint.
struct DemoSizes {
  std::string image_size;  // synth --size, "WxH".
  int input_size = 0;      // config init --input-size.
  int source_images = 0;   // Source set (pre-training), of which a tenth is validation.
  int target_train = 0;    // Target training images: few, where pre-training pays.
  int target_val = 0;      // Target validation images: the mIoU both models are compared on.
  int pretrain_steps = 0;
  int finetune_steps = 0;  // Same for fine-tuned and from scratch.
  int batch_size = 0;
};
DemoSizes SizesForScale(DemoScale scale);

struct DemoOptions {
  std::filesystem::path workdir;         // Created; must be empty, absent, or an earlier demo's workdir.
  DemoScale scale = DemoScale::kFull;
  int seed = 1;                          // synth seeds: source `seed`, target `seed + 1`.
  std::filesystem::path segtune_binary;  // The binary each step runs (the demo verb passes its own).
  std::vector<std::string> global_args;  // Put before each verb, e.g. {"--threads", "2"}.
};

struct DemoResult {
  double finetuned_miou = 0;  // mean_iou of metrics.json on the target validation set.
  double scratch_miou = 0;
  double seconds = 0;
  std::vector<std::vector<std::string>> commands;  // Every command run, argv[0] = "segtune".
};

// Runs every step in options.workdir, printing "=== <step>" and "+ segtune ..." lines to stderr, then
// the result and where to look. Also writes workdir/commands.sh (every command, replayable from the
// workdir). Throws UsageError if workdir holds files not made by a demo, Error if a step fails (naming
// the command and its exit status), FormatError if a metrics.json lacks mean_iou.
DemoResult RunDemo(const DemoOptions& options);

// A command line as a user would type it: words single-quoted only when the shell needs it.
std::string ShellCommandLine(const std::vector<std::string>& argv);

}  // namespace segtune
