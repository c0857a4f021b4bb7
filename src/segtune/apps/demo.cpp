#include "segtune/apps/demo.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/engine/checkpoint.h"

namespace segtune {

namespace fs = std::filesystem;

namespace {

constexpr const char* kModel = "lraspp_mobilenet_v3_large";
constexpr const char* kMarker = ".segtune-demo";  // Marks a workdir the demo may clear and reuse.

std::string Fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// An empty or absent workdir, or one an earlier demo made (it is cleared): never a user's files.
void PrepareWorkdir(const fs::path& workdir) {
  if (workdir.empty()) throw UsageError("demo: --workdir is required");
  if (fs::exists(workdir)) {
    if (!fs::is_directory(workdir)) throw UsageError("demo: --workdir " + workdir.string() + " is not a directory");
    const bool empty = fs::directory_iterator(workdir) == fs::directory_iterator();
    if (!empty && !fs::exists(workdir / kMarker)) {
      throw UsageError("demo: --workdir " + workdir.string() +
                       " holds files not written by the demo; give an empty or new directory");
    }
    for (const auto& entry : fs::directory_iterator(workdir)) fs::remove_all(entry.path());
  }
  fs::create_directories(workdir);
  WriteFileAtomic(workdir / kMarker, "segtune demo working directory: `segtune demo` clears it on its next run\n");
}

double ReadMeanIou(const fs::path& metrics) {
  std::ifstream in(metrics);
  if (!in) throw IoError(metrics, "cannot open");
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("mean_iou") || !j["mean_iou"].is_number()) {
    throw FormatError(metrics, "", "expected a JSON object with a numeric \"mean_iou\"");
  }
  return j["mean_iou"].get<double>();
}

class DemoRunner {
 public:
  explicit DemoRunner(const DemoOptions& options) : o_(options), sizes_(SizesForScale(options.scale)) {}

  DemoResult Run() {
    const auto start = std::chrono::steady_clock::now();
    PrepareWorkdir(o_.workdir);
    std::cerr << "segtune demo (" << (o_.scale == DemoScale::kSmall ? "small" : "full") << "): working in "
              << o_.workdir.string() << "\n";
    PrepareDataset("source", "ball,cup,sign", sizes_.source_images, o_.seed, sizes_.source_images / 10);
    PrepareDataset("target", "bottle,can,box", sizes_.target_train + sizes_.target_val, o_.seed + 1, sizes_.target_val);
    const std::string pretrained = Pretrain();
    result_.finetuned_miou = TrainAndEvaluate("finetuned", pretrained);
    result_.scratch_miou = TrainAndEvaluate("scratch", "");
    WriteReport();
    result_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    WriteCommandsScript();
    Report();
    return result_;
  }

 private:
  void Step(const std::string& title) { std::cerr << "\n=== " << title << "\n" << std::flush; }

  // Prints the command as a user would type it, then runs the binary with it in the workdir.
  void Seg(std::vector<std::string> args) {
    args.insert(args.begin(), o_.global_args.begin(), o_.global_args.end());
    args.insert(args.begin(), "segtune");
    const std::string line = ShellCommandLine(args);
    std::cerr << "\n+ " << line << "\n" << std::flush;
    std::cout << std::flush;
    result_.commands.push_back(args);
    std::vector<char*> argv;
    const std::string binary = o_.segtune_binary.string();
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (size_t i = 1; i < args.size(); ++i) argv.push_back(args[i].data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw IoError("demo: fork for `" + line + "`: " + std::strerror(errno));
    if (pid == 0) {
      if (chdir(o_.workdir.c_str()) != 0) _exit(126);
      execv(binary.c_str(), argv.data());
      std::fprintf(stderr, "demo: cannot run %s: %s\n", binary.c_str(), std::strerror(errno));
      _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) throw IoError("demo: waiting for `" + line + "`: " + std::strerror(errno));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    const std::string how = WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                              : "signal " + std::to_string(WTERMSIG(status));
    throw Error("demo: step failed (" + how + "): " + line + "\n  (in " + o_.workdir.string() + ")");
  }

  // A labeling tool's export, as a user starts: Labelbox -> COCO -> images -> checks -> splits -> label
  // map -> TFRecords with semantic masks.
  void PrepareDataset(const std::string& name, const std::string& classes, int images, int seed, int val_images) {
    const double val = double(val_images) / images;
    Step("dataset '" + name + "': Labelbox export -> COCO -> local images -> checks -> splits -> label map -> TFRecords");
    Seg({"synth", "--out", name + "/labelbox", "--num-images", std::to_string(images), "--classes", classes, "--seed",
         std::to_string(seed), "--size", sizes_.image_size});
    Seg({"labelbox2coco", name + "/labelbox/export.json", "-o", name + "/coco_urls.json"});
    Seg({"download", name + "/coco_urls.json", "--images-dir", name + "/images", "-o", name + "/coco.json",
         "--allow-file-urls", name + "/labelbox"});  // synth's export names its images by file:// URL.
    Seg({"validate", name + "/coco.json", "--images-dir", name});
    Seg({"split", name + "/coco.json", "--train", Fixed(1 - val, 6), "--val", Fixed(val, 6), "--test", "0", "--seed",
         std::to_string(seed), "-o", name + "/split"});
    Seg({"labelmap", name + "/coco.json", "-o", name + "/label_map.pbtxt"});
    for (const std::string part : {"train", "val"}) {
      Seg({"coco2tfrecord", "--annotations", name + "/split_" + part + ".json", "--images-dir", name, "--output",
           name + "/records/" + part + ".record", "--shards", "2", "--semantic-masks"});
    }
  }

  void ConfigInit(const std::string& data, int steps, const std::string& checkpoint, const std::string& output) {
    std::vector<std::string> args = {"config", "init", "--model", kModel, "--label-map", data + "/label_map.pbtxt",
                                     "--train", data + "/records/train.record-*", "--val",
                                     data + "/records/val.record-*", "--num-steps", std::to_string(steps),
                                     "--batch-size", std::to_string(sizes_.batch_size), "--input-size",
                                     std::to_string(sizes_.input_size)};
    if (!checkpoint.empty()) args.insert(args.end(), {"--checkpoint", checkpoint});
    args.insert(args.end(), {"-o", output});
    Seg(args);
  }

  // The newest step checkpoint of a training run, relative to the workdir.
  std::string NewestCheckpoint(const std::string& train_dir) {
    const auto all = ListStepCheckpoints(o_.workdir / train_dir);
    if (all.empty()) throw Error("demo: no ckpt-*.safetensors in " + (o_.workdir / train_dir).string());
    return train_dir + "/" + all.back().filename().string();
  }

  // Pre-training on the source set stands in for a model-zoo checkpoint (which needs the network).
  std::string Pretrain() {
    Step(std::string("pre-train ") + kModel + " on the source set");
    ConfigInit("source", sizes_.pretrain_steps, "", "pretrain/pipeline.config");
    Seg({"train", "--pipeline-config", "pretrain/pipeline.config", "--train-dir", "pretrain/train"});
    return NewestCheckpoint("pretrain/train");
  }

  // Train on the target set (from `checkpoint` if given), export, inspect, infer and evaluate; the mIoU.
  double TrainAndEvaluate(const std::string& name, const std::string& checkpoint) {
    Step("train '" + name + "' on the target set" + (checkpoint.empty() ? "" : " from " + checkpoint));
    ConfigInit("target", sizes_.finetune_steps, checkpoint, name + "/pipeline.config");
    Seg({"train", "--pipeline-config", name + "/pipeline.config", "--train-dir", name + "/train"});
    const std::string last = NewestCheckpoint(name + "/train");
    Step("export, inspect, infer and evaluate '" + name + "'");
    Seg({"export", "--pipeline-config", name + "/pipeline.config", "--checkpoint", last, "--output-dir",
         name + "/exported"});
    Seg({"inspect", name + "/exported", "--logdir", name + "/graph"});
    Seg({"infer", "--model", name + "/exported", "--input", "target/records/val.record-*", "--output",
         name + "/inference.record", "--overlays-dir", name + "/overlays", "--masks-dir", name + "/masks"});
    Seg({"eval", "--predictions", name + "/inference.record", "--groundtruth", "target/records/val.record-*",
         "--label-map", "target/label_map.pbtxt", "--output", name + "/metrics.json"});
    return ReadMeanIou(o_.workdir / name / "metrics.json");
  }

  // The target dataset's splits, both runs side by side (curves, evaluation, galleries) and the
  // fine-tuned model's card in one page (docs/report.md).
  void WriteReport() {
    Step("report: fine-tuned vs scratch");
    Seg({"report", "target/records/train.record-*", "target/records/val.record-*", "finetuned/train", "scratch/train",
         "finetuned/metrics.json", "scratch/metrics.json", "finetuned/exported", "-o", "report.html"});
  }

  void WriteCommandsScript() {
    std::string text = "#!/bin/sh\n# Every command `segtune demo` ran, in order; run from this directory.\nset -e\n";
    for (const auto& command : result_.commands) text += ShellCommandLine(command) + "\n";
    WriteFileAtomic(o_.workdir / "commands.sh", text);
  }

  void Report() {
    const std::string work = fs::absolute(o_.workdir).lexically_normal().string();
    std::cerr << "\n=== result (target validation set, " << sizes_.target_val << " images; " << sizes_.target_train
              << " training images, " << sizes_.finetune_steps << " steps each; "
              << static_cast<long long>(result_.seconds) << " s)\n"
              << "  mIoU fine-tuned from the source pre-training: " << Fixed(result_.finetuned_miou, 4) << "\n"
              << "  mIoU trained from scratch:                    " << Fixed(result_.scratch_miou, 4) << "\n"
              << "where to look:\n"
              << "  report:       " << work << "/report.html   (open it in a browser)\n"
              << "  overlays:     " << work << "/finetuned/overlays/\n"
              << "  TensorBoard:  tensorboard --logdir " << work
              << "   (training curves in */train, model graphs in */graph)\n"
              << "  metrics:      " << work << "/finetuned/metrics.json  " << work << "/scratch/metrics.json\n"
              << "  commands:     " << work << "/commands.sh\n"
              << std::flush;
  }

  const DemoOptions& o_;
  const DemoSizes sizes_;
  DemoResult result_;
};

}  // namespace

DemoScale ParseDemoScale(const std::string& text) {
  if (text == "small") return DemoScale::kSmall;
  if (text == "full") return DemoScale::kFull;
  throw UsageError("demo: --scale must be small or full, not '" + text + "'");
}

DemoSizes SizesForScale(DemoScale scale) {
  // Pre-training pays where the target budget is short: most of the steps go to pre-training, and the
  // target runs get few images and steps (from scratch, that is little more than learning background).
  DemoSizes s;
  if (scale == DemoScale::kSmall) {
    s.image_size = "64x64", s.input_size = 64, s.source_images = 96, s.target_train = 16, s.target_val = 16;
    s.pretrain_steps = 100, s.finetune_steps = 20, s.batch_size = 8;
  } else {
    s.image_size = "128x128", s.input_size = 128, s.source_images = 480, s.target_train = 20, s.target_val = 80;
    s.pretrain_steps = 900, s.finetune_steps = 100, s.batch_size = 8;
  }
  return s;
}

std::string ShellCommandLine(const std::vector<std::string>& argv) {
  static const std::regex plain("[A-Za-z0-9_./:=,@%+-]+");
  std::string line;
  for (const auto& word : argv) {
    if (!line.empty()) line += ' ';
    if (std::regex_match(word, plain)) {
      line += word;
      continue;
    }
    line += '\'';
    for (char c : word) line += (c == '\'') ? std::string("'\\''") : std::string(1, c);
    line += '\'';
  }
  return line;
}

DemoResult RunDemo(const DemoOptions& options) { return DemoRunner(options).Run(); }

}  // namespace segtune
