// Training end to end on generated TFRecords: loss falls, resume is bit-for-bit, overfitting works,
// event files and metrics.csv hold what was logged, a non-finite loss stops with the step named.
#include "segtune/engine/trainer.h"

#include <gtest/gtest.h>

#include <sstream>

#include <cstring>

#include "event.pb.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/tfrecord.h"
#include "segtune/engine/checkpoint.h"
#include "test_util.h"
#include "train_fixture.h"

namespace segtune {
namespace {

std::string Config(const std::string& extra_train, int batch, int size, const std::string& optimizer) {
  return "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 3\n"
         "  image_resizer { fixed_shape_resizer { height: " + std::to_string(size) + " width: " +
         std::to_string(size) + " } } } }\n"
         "train_config {\n  batch_size: " + std::to_string(batch) + "\n  seed: 3\n  optimizer { " + optimizer + " }\n" +
         extra_train + "}\n"
         "train_input_reader { label_map_path: 'label_map.pbtxt' tf_record_input_reader { input_path: 'train-*' } }\n"
         "eval_config { batch_size: 4 num_visualizations: 1 eval_every_n_steps: 0 }\n"
         "eval_input_reader { shuffle: false tf_record_input_reader { input_path: 'train-*' } }\n";
}

const char* kAdam = "adam_optimizer { learning_rate { constant_learning_rate { learning_rate: 0.003 } } }";

struct Fixture {
  testing::TempDir dir;
  Fixture(int images, int size, const std::string& config) {
    testing::WriteShapesRecords(dir / "train-00000-of-00001", images, size, 11);
    testing::WriteLabelMap(dir / "label_map.pbtxt");
    WriteFileAtomic(dir / "pipeline.config", config);
  }
  TrainOptions Options(const std::string& train_dir, int64_t steps) const {
    TrainOptions o;
    o.pipeline_config = dir / "pipeline.config";
    o.train_dir = dir / train_dir;
    o.num_steps = steps;
    o.threads = 2;
    return o;
  }
};

std::vector<tensorboard::Event> ReadEvents(const std::filesystem::path& dir) {
  std::vector<tensorboard::Event> events;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().find("tfevents") == std::string::npos) continue;
    for (const std::string& record : ReadAllRecords(entry.path())) {
      tensorboard::Event e;
      EXPECT_TRUE(e.ParseFromString(record));
      events.push_back(e);
    }
  }
  return events;
}

TEST(Trainer, LossFallsAndResumedRunRepeatsTheLossSequence) {
  Fixture f(8, 64, Config("  log_every_n_steps: 1\n  image_summary_every_n_steps: 4\n", 2, 64, kAdam));
  const TrainResult whole = Train(f.Options("whole", 8));
  ASSERT_EQ(whole.losses.size(), 8u);
  EXPECT_LT((whole.losses[6] + whole.losses[7]) / 2, (whole.losses[0] + whole.losses[1]) / 2);

  TrainOptions first = f.Options("split", 8);
  first.stop_after_step = 4;
  const TrainResult part1 = Train(first);
  EXPECT_TRUE(part1.interrupted);
  ASSERT_EQ(part1.losses.size(), 4u);
  // As an older segtune wrote it: without the data_wait_share and segment columns. The resumed run
  // moves the old cells to its columns by name.
  {
    std::istringstream in(ReadFile(f.dir / "split" / "metrics.csv"));
    std::string old_format;
    for (std::string line; std::getline(in, line);) {
      for (int drop = 0; drop < 2; ++drop) line = line.substr(0, line.rfind(','));
      old_format += line + "\n";
    }
    WriteFileAtomic(f.dir / "split" / "metrics.csv", old_format);
  }
  TrainOptions second = f.Options("split", 8);
  second.resume = true;
  const TrainResult part2 = Train(second);
  EXPECT_EQ(part2.first_step, 4);
  ASSERT_EQ(part2.losses.size(), 4u);
  for (int i = 0; i < 8; ++i) {
    const double resumed = i < 4 ? part1.losses[i] : part2.losses[i - 4];
    EXPECT_EQ(resumed, whole.losses[i]) << "step " << i + 1;  // Bit-for-bit, not approximately.
  }

  // TensorBoard: file_version first, one train/loss scalar per step with the loss, an overlay image.
  const auto events = ReadEvents(f.dir / "whole" / "train");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].file_version(), "brain.Event:2");
  std::vector<float> logged;
  int images = 0;
  for (const auto& e : events) {
    for (const auto& v : e.summary().value()) {
      if (v.tag() == "train/loss") logged.push_back(v.simple_value());
      if (v.tag() == "train/overlay" && v.has_image()) ++images;
    }
  }
  ASSERT_EQ(logged.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(logged[i], static_cast<float>(whole.losses[i]));
  EXPECT_EQ(images, 2);
  // metrics.csv: header + one row per step, continued (not restarted) by the resumed run.
  const std::string csv = ReadFile(f.dir / "split" / "metrics.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 9) << csv;
  // Each row's segment says which run wrote it (the report draws the resume there); the new rows
  // carry the share of the logging window spent waiting for input, the old ones leave it empty.
  std::istringstream rows(csv);
  std::string header;
  std::getline(rows, header);
  ASSERT_EQ(header.substr(header.size() - 24), ",data_wait_share,segment") << header;
  int row = 0;
  for (std::string line; std::getline(rows, line); ++row) {
    const std::string segment = line.substr(line.rfind(',') + 1);
    const std::string rest = line.substr(0, line.rfind(','));
    const std::string wait = rest.substr(rest.rfind(',') + 1);
    EXPECT_EQ(segment, row < 4 ? "1" : "2") << line;
    if (row < 4) {
      EXPECT_EQ(wait, "") << line;
    } else {
      ASSERT_FALSE(wait.empty()) << line;
      EXPECT_GE(std::stod(wait), 0.0);
      EXPECT_LE(std::stod(wait), 1.0);
    }
  }
  EXPECT_TRUE(std::filesystem::exists(f.dir / "split" / "pipeline.config"));
  EXPECT_TRUE(std::filesystem::exists(f.dir / "split" / "ckpt-000008.safetensors"));
}

TEST(Trainer, OverfitsEightImagesToHighMiou) {
  Fixture f(8, 64,
            Config("  log_every_n_steps: 50\n  image_summary_every_n_steps: 0\n  checkpoint_every_n_steps: 0\n"
                   "  freeze_batchnorm: true\n", 4, 64,
                   "adam_optimizer { learning_rate { constant_learning_rate { learning_rate: 0.001 } } }"));
  const TrainResult result = Train(f.Options("overfit", 100));
  ASSERT_TRUE(result.evaluated);  // Evaluated at the end on the same 8 images.
  EXPECT_GT(testing::ReportMeasuredFloor("overfit mIoU", result.last_eval.mean_iou, 0.9), 0.9) << FormatSemanticTable(result.last_eval, {});
  const auto events = ReadEvents(f.dir / "overfit" / "eval");
  bool found = false;
  for (const auto& e : events) {
    for (const auto& v : e.summary().value()) {
      if (v.tag() == "eval/mIoU") {
        found = true;
        EXPECT_FLOAT_EQ(v.simple_value(), static_cast<float>(result.last_eval.mean_iou));
      }
    }
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(std::filesystem::exists(f.dir / "overfit" / "best.safetensors"));
}

TEST(Trainer, NonFiniteLossStopsNamingTheStep) {
  // Zero class weights make the weighted cross-entropy 0/0. (A NaN class weight, which this test used,
  // is now rejected before training by the config validation.)
  Fixture f(4, 32, Config("  class_weights: [0, 0, 0]\n", 2, 32, kAdam));
  try {
    Train(f.Options("nan", 5));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("step 1: the loss is NaN"), std::string::npos) << e.what();
  }
}


// issue 18 item 2: a new run wrote its checkpoints, metrics.csv and pipeline.config into whatever
// --train-dir held. Now: a directory that is not a previous run is never used; a previous run is
// replaced only with --overwrite (its checkpoints go, so --resume cannot pick the old run's).
TEST(Trainer, NewRunNeverMixesIntoAnExistingDirectory) {
  Fixture f(2, 32, Config("  log_every_n_steps: 1\n  image_summary_every_n_steps: 0\n", 2, 32, kAdam));
  std::filesystem::create_directories(f.dir / "mine");
  WriteFileAtomic(f.dir / "mine" / "pipeline.config", "my own config");
  TrainOptions o = f.Options("mine", 1);
  o.overwrite = true;
  try {
    Train(o);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("train: " + (f.dir / "mine").string() +
                                         ": exists and is not a segtune train output (no metrics.csv)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(ReadFile(f.dir / "mine" / "pipeline.config"), "my own config");

  Train(f.Options("run", 2));
  ASSERT_TRUE(std::filesystem::exists(f.dir / "run" / "ckpt-000002.safetensors"));
  try {
    Train(f.Options("run", 1));
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("holds a previous segtune train output; pass --overwrite"), std::string::npos)
        << e.what();
  }
  TrainOptions again = f.Options("run", 1);
  again.overwrite = true;
  Train(again);
  EXPECT_FALSE(std::filesystem::exists(f.dir / "run" / "ckpt-000002.safetensors"));
  EXPECT_EQ(ListStepCheckpoints(f.dir / "run").size(), 1u);
}

}  // namespace
}  // namespace segtune
