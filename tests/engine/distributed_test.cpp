// Data-parallel training over c10d/Gloo on loopback: two ranks reproduce one process trained on the same
// global batch (weights within 1e-5, same evaluation numbers), also as two hand-started "hosts" with
// --sync-batch-norm (BatchNorm running statistics included), and a crashed or hung rank makes the other
// stop with an error naming it while the last checkpoint stays loadable.
#include "segtune/engine/distributed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <sstream>

#include "segtune/core/atomic_file.h"
#include "segtune/engine/checkpoint.h"
#include "segtune/engine/launcher.h"
#include "segtune/engine/trainer.h"
#include "segtune/models/semantic_registry.h"
#include "segtune/models/safetensors.h"
#include "test_util.h"
#include "train_fixture.h"

namespace segtune {
namespace {

// BatchNorm frozen (eval mode) unless `train_batchnorm`: per-rank batch statistics would otherwise differ
// from the full batch's (the --sync-batch-norm test trains it). SGD with momentum: the update is linear in
// the gradient, so summation-order noise stays ~1e-8.
std::string Config(const std::string& extra_train, bool train_batchnorm = false) {
  return "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 3\n"
         "  image_resizer { fixed_shape_resizer { height: 32 width: 32 } } } }\n"
         "train_config {\n  batch_size: 4\n  seed: 5\n  freeze_batchnorm: " +
         std::string(train_batchnorm ? "false" : "true") + "\n  log_every_n_steps: 1\n"
         "  image_summary_every_n_steps: 0\n"
         "  optimizer { momentum_optimizer { learning_rate { constant_learning_rate { learning_rate: " +
         std::string(train_batchnorm ? "0.002" : "0.05") + " } }\n"
         "    momentum_optimizer_value: 0.9 } }\n" +
         extra_train +
         "}\n"
         "train_input_reader { label_map_path: 'label_map.pbtxt' tf_record_input_reader { input_path: 'train-*' } }\n"
         "eval_config { batch_size: 3 num_visualizations: 1 eval_every_n_steps: 0 }\n"
         "eval_input_reader { shuffle: false tf_record_input_reader { input_path: 'train-*' } }\n";
}

struct Job {
  testing::TempDir dir;
  explicit Job(const std::string& extra_train, bool train_batchnorm = false) {
    testing::WriteShapesRecords(dir / "train-00000-of-00001", 8, 32, 17);  // Image 0 has ignore pixels.
    testing::WriteLabelMap(dir / "label_map.pbtxt");
    WriteFileAtomic(dir / "pipeline.config", Config(extra_train, train_batchnorm));
  }
  std::string TrainArgs(const std::string& train_dir, int steps) const {
    return "--threads 1 train --pipeline-config '" + (dir / "pipeline.config").string() + "' --train-dir '" +
           (dir / train_dir).string() + "' --num-steps " + std::to_string(steps);
  }
  // Shell text starting rank `rank` of 2 torchrun-style (environment variables) on `port`.
  std::string Rank(int rank, int port, const std::string& env, const std::string& args) const {
    return "env RANK=" + std::to_string(rank) + " WORLD_SIZE=2 LOCAL_RANK=" + std::to_string(rank) +
           " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " " + env + " '" + SEGTUNE_BINARY + "' " +
           args;
  }
};

std::map<std::string, torch::Tensor> ModelTensors(const std::filesystem::path& checkpoint) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, tensor] : ReadSafetensors(checkpoint).items) {
    if (name.rfind("model.", 0) == 0) out[name] = tensor;
  }
  return out;
}

// metrics.csv rows as cells.
std::vector<std::vector<std::string>> CsvRows(const std::filesystem::path& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(ReadFile(path));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::istringstream cells_in(line);
    for (std::string cell; std::getline(cells_in, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

TEST(DataParallel, TwoRanksMatchOneProcessOnTheGlobalBatch) {
  Job job("  checkpoint_every_n_steps: 0\n");
  TrainOptions single;
  single.pipeline_config = job.dir / "pipeline.config";
  single.train_dir = job.dir / "single";
  single.num_steps = 3;
  single.threads = 1;
  const TrainResult reference = Train(single);
  ASSERT_EQ(reference.losses.size(), 3u);
  ASSERT_TRUE(reference.evaluated);

  const auto run = testing::RunSegtune(job.TrainArgs("ddp", 3) + " --nproc-per-node 2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("2 processes x 2 images = global batch 4"), std::string::npos) << run.output;

  const auto expected = ModelTensors(reference.last_checkpoint);
  const auto actual = ModelTensors(job.dir / "ddp" / "ckpt-000003.safetensors");
  ASSERT_EQ(actual.size(), expected.size());
  const auto initial = [] {
    torch::manual_seed(5);
    auto model = CreateSemanticModel("lraspp_mobilenet_v3_large", 3, false);
    std::map<std::string, torch::Tensor> params;
    for (const auto& p : model->named_parameters()) params["model." + p.key()] = p.value();
    return params;
  }();
  double moved = 0, worst = 0;
  for (const auto& [name, tensor] : expected) {
    ASSERT_TRUE(actual.count(name)) << name;
    worst = std::max(worst, (actual.at(name) - tensor).abs().max().item<double>());
    if (initial.count(name)) moved = std::max(moved, (initial.at(name) - tensor).abs().max().item<double>());
  }
  EXPECT_LE(testing::ReportMeasured("data-parallel weights vs one process", worst, 1e-5), 1e-5);
  EXPECT_GT(moved, 1e-3) << "training did not change the weights: the comparison would be vacuous";

  // Rank 0 logged the global-batch loss of every step and the evaluation, sharded over the ranks (3 eval
  // batches split 1 + 2) and reduced, equal to the single process's.
  const auto rows = CsvRows(job.dir / "ddp" / "metrics.csv");
  ASSERT_EQ(rows.size(), 3u);
  double worst_loss = 0;
  for (int i = 0; i < 3; ++i) worst_loss = std::max(worst_loss, std::abs(std::stod(rows[i][1]) - reference.losses[i]));
  EXPECT_LE(testing::ReportMeasured("data-parallel loss vs one process", worst_loss, 1e-5), 1e-5);
  ASSERT_GE(rows[2].size(), 6u);
  EXPECT_LE(testing::ReportMeasured("data-parallel eval mIoU vs one process",
                                    std::abs(std::stod(rows[2][4]) - reference.last_eval.mean_iou), 1e-6), 1e-6);
  EXPECT_NEAR(std::stod(rows[2][5]), reference.last_eval.pixel_accuracy, 1e-6);
}

// Largest difference between the model tensors (parameters and BatchNorm buffers) of two checkpoints.
double MaxModelDifference(const std::filesystem::path& a, const std::filesystem::path& b) {
  const auto x = ModelTensors(a), y = ModelTensors(b);
  EXPECT_EQ(x.size(), y.size());
  double worst = 0;
  for (const auto& [name, tensor] : x) {
    if (!y.count(name)) {
      ADD_FAILURE() << name << " missing";
      continue;
    }
    worst = std::max(worst, (y.at(name).to(torch::kDouble) - tensor.to(torch::kDouble)).abs().max().item<double>());
  }
  return worst;
}

// Two hosts simulated on loopback: two independent `segtune train` processes, each given its rank by hand
// as a cluster launcher would (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT; LOCAL_RANK 0 on both "hosts";
// no --nproc-per-node), train together with BatchNorm in training mode and --sync-batch-norm. Rank 0's
// checkpoint (weights and running statistics) equals one process trained on the whole global batch; rank
// 1's gradients and statistics enter every step, so a rank that trained apart would break the equality.
// Without --sync-batch-norm each rank normalises over its own 2 images and the result is far off.
// Measured: --sync-batch-norm 2.1e-6, per-rank BatchNorm 0.16, and one process against itself with 2
// instead of 1 threads 1.9e-6 (the float noise floor). The learning rate is 0.002 here because training-mode
// BatchNorm on 2x2-pixel late feature maps amplifies rounding: at 0.05 the noise floor itself is 5e-4.
TEST(DataParallel, TwoHostsWithSyncBatchNormMatchOneProcess) {
  Job job("  checkpoint_every_n_steps: 0\n", /*train_batchnorm=*/true);
  TrainOptions single;
  single.pipeline_config = job.dir / "pipeline.config";
  single.train_dir = job.dir / "single";
  single.num_steps = 3;
  single.threads = 1;
  const TrainResult reference = Train(single);

  const int port = FreeTcpPort();
  const std::string args = job.TrainArgs("hosts", 3) + " --sync-batch-norm --dist-timeout 60";
  auto host = [&](int rank) {  // LOCAL_RANK=0: each "host" runs one process.
    return "env RANK=" + std::to_string(rank) + " WORLD_SIZE=2 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
           std::to_string(port) + " '" + SEGTUNE_BINARY + "' " + args;
  };
  const auto run = testing::RunCommand("{ " + host(1) + " & p1=$!; " + host(0) + "; rc0=$?; wait $p1; rc1=$?; " +
                                       "echo \"exit codes $rc0 $rc1\"; exit $((rc0 | rc1)); }");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("BatchNorm layers use global-batch statistics"), std::string::npos) << run.output;
  const auto rows = CsvRows(job.dir / "hosts" / "metrics.csv");
  ASSERT_EQ(rows.size(), 3u);
  double worst_loss = 0;
  for (int i = 0; i < 3; ++i) worst_loss = std::max(worst_loss, std::abs(std::stod(rows[i][1]) - reference.losses[i]));
  EXPECT_LE(testing::ReportMeasured("sync-batch-norm hosts loss vs one process", worst_loss, 1e-5), 1e-5);
  const double synced = MaxModelDifference(reference.last_checkpoint, job.dir / "hosts" / "ckpt-000003.safetensors");
  EXPECT_LE(testing::ReportMeasured("sync-batch-norm hosts weights vs one process", synced, 1e-5), 1e-5);

  const auto unsynced = testing::RunSegtune(job.TrainArgs("per_rank", 3) + " --nproc-per-node 2");
  ASSERT_EQ(unsynced.exit_code, 0) << unsynced.output;
  const double apart = MaxModelDifference(reference.last_checkpoint, job.dir / "per_rank" / "ckpt-000003.safetensors");
  EXPECT_GT(apart, 1e-3) << "per-rank BatchNorm statistics should differ from the global batch's";
  std::cout << "max |weights - one process|: --sync-batch-norm " << synced << ", per-rank BatchNorm " << apart << "\n";
}

TEST(DataParallel, CrashedRankStopsTheOtherNamingItAndTheCheckpointLoads) {
  Job job("  checkpoint_every_n_steps: 2\n");
  const int port = FreeTcpPort();
  const std::string args = job.TrainArgs("run", 8) + " --dist-timeout 30";
  const auto start = std::chrono::steady_clock::now();
  const auto run = testing::RunCommand("{ " + job.Rank(1, port, "SEGTUNE_TEST_KILL_RANK_AT_STEP=1:3", args) + " & " +
                                       job.Rank(0, port, "", args) + "; rc=$?; wait; exit $rc; }");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("rank 0 of 2: "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("at step 3 failed: lost rank 1"), std::string::npos) << run.output;
  EXPECT_LT(seconds, 60) << "the surviving rank did not stop promptly";

  // Rank 0 wrote ckpt-000002 before the crash; it loads and training resumes from it in one process.
  const auto checkpoints = ListStepCheckpoints(job.dir / "run");
  ASSERT_EQ(checkpoints.size(), 1u);
  EXPECT_EQ(checkpoints.back().filename(), "ckpt-000002.safetensors");
  auto model = CreateSemanticModel("lraspp_mobilenet_v3_large", 3, false);
  EXPECT_EQ(LoadTrainingCheckpoint(checkpoints.back(), *model, nullptr).step, 2);
  const auto resumed = testing::RunSegtune(job.TrainArgs("run", 3) + " --resume");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
}

// Rank 1 dies inside its backward of step 3 (before launching a gradient bucket): rank 0's buckets, launched
// from inside its own backward (the overlapped path, in use from step 2 on), fail, and it names the lost rank.
TEST(DataParallel, RankLostDuringOverlappedGradientAllreduceIsNamed) {
  Job job("  checkpoint_every_n_steps: 0\n");
  const int port = FreeTcpPort();
  const std::string args = job.TrainArgs("run", 6) + " --dist-timeout 30";
  const auto run = testing::RunCommand("{ " + job.Rank(1, port, "SEGTUNE_TEST_KILL_RANK_AT_STEP=1:3:GRAD", args) +
                                       " & " + job.Rank(0, port, "", args) + "; rc=$?; wait; exit $rc; }");
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("gradient allreduce at step 3 failed: lost rank 1"), std::string::npos) << run.output;
}

TEST(DataParallel, HungRankTimesOutNamingIt) {
  Job job("  checkpoint_every_n_steps: 0\n");
  const int port = FreeTcpPort();
  const std::string args = job.TrainArgs("run", 5) + " --dist-timeout 8";
  const auto run = testing::RunCommand("{ " + job.Rank(1, port, "SEGTUNE_TEST_KILL_RANK_AT_STEP=1:2:STOP", args) +
                                       " & p1=$!; " + job.Rank(0, port, "", args) +
                                       "; rc=$?; kill -9 $p1; wait; exit $rc; }");
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("at step 2 failed: lost rank 1"), std::string::npos) << run.output;
}

TEST(DataParallel, LauncherReportsTheDeadWorkerAndFails) {
  Job job("  checkpoint_every_n_steps: 0\n");
  const auto run = testing::RunCommand("SEGTUNE_TEST_KILL_RANK_AT_STEP=1:2 '" + std::string(SEGTUNE_BINARY) +
                                       "' " + job.TrainArgs("run", 4) + " --nproc-per-node 2");
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("rank 1 (pid"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("killed by signal 9"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("lost rank 1"), std::string::npos) << run.output;  // Rank 0's own error.
}

TEST(DataParallel, ShardRangesAreDisjointAndCoverAll) {
  for (int world = 1; world <= 4; ++world) {
    int64_t next = 0;
    for (int rank = 0; rank < world; ++rank) {
      const auto [first, end] = ShardRange(7, rank, world);
      EXPECT_EQ(first, next);
      EXPECT_LE(end - first, 7 / world + 1);
      next = end;
    }
    EXPECT_EQ(next, 7);
  }
}

// The denominator is what cross_entropy's mean reduction divides its sum by (so ranks can rebuild the
// global mean), with and without class weights.
TEST(DataParallel, LossDenominatorIsCrossEntropysMeanDivisor) {
  torch::manual_seed(1);
  const torch::Tensor logits = torch::randn({2, 3, 4, 4}, torch::kFloat64);
  torch::Tensor labels = torch::randint(0, 3, {2, 4, 4}, torch::kLong);
  labels.index_put_({0, 0}, 255);
  namespace F = torch::nn::functional;
  for (const torch::Tensor& weights : {torch::Tensor(), torch::tensor({0.5, 2.0, 1.0}, torch::kFloat64)}) {
    auto options = F::CrossEntropyFuncOptions().ignore_index(255);
    if (weights.defined()) options.weight(weights);
    const double mean = F::cross_entropy(logits, labels, options).item<double>();
    const double sum = F::cross_entropy(logits, labels, options.reduction(torch::kSum)).item<double>();
    EXPECT_NEAR(mean * LossDenominator(labels, weights, 255), sum, 1e-9);
  }
  EXPECT_EQ(LossDenominator(labels, {}, 255), 2 * 16 - 4);
}

}  // namespace
}  // namespace segtune
