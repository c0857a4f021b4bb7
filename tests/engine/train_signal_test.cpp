// Ctrl-C / SIGTERM during `segtune train`: the run finishes its step, saves a checkpoint for it, exits
// 128 + signal (130, 143: interrupted, as shells report it; was 0, issue 18 item 11), and --resume
// continues from that step.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "segtune/core/atomic_file.h"
#include "segtune/engine/checkpoint.h"
#include "segtune/engine/trainer.h"
#include "test_util.h"
#include "train_fixture.h"

namespace segtune {
namespace {

const char* kConfig =
    "model { segmentation { architecture: 'lraspp_mobilenet_v3_large' num_classes: 3\n"
    "  image_resizer { fixed_shape_resizer { height: 32 width: 32 } } } }\n"
    "train_config { batch_size: 2 seed: 5 num_steps: 100000 log_every_n_steps: 1\n"
    "  image_summary_every_n_steps: 0 checkpoint_every_n_steps: 0\n"
    "  optimizer { adam_optimizer { learning_rate { constant_learning_rate { learning_rate: 0.001 } } } } }\n"
    "train_input_reader { tf_record_input_reader { input_path: 'train.record' } }\n";

// Starts `segtune --threads 1 train ...` with its output in `log`; returns the child's pid.
pid_t StartTraining(const std::filesystem::path& config, const std::filesystem::path& train_dir,
                    const std::filesystem::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(SEGTUNE_BINARY, SEGTUNE_BINARY, "--threads", "1", "train", "--pipeline-config", config.c_str(),
          "--train-dir", train_dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Rows (steps logged) in metrics.csv; 0 while it does not exist.
int MetricsRows(const std::filesystem::path& csv) {
  if (!std::filesystem::exists(csv)) return 0;
  const std::string text = ReadFile(csv);
  return std::max<int>(0, static_cast<int>(std::count(text.begin(), text.end(), '\n')) - 1);
}

// The step of metrics.csv's last row.
int64_t LastLoggedStep(const std::filesystem::path& csv) {
  std::string text = ReadFile(csv);
  text.pop_back();
  const std::string last = text.substr(text.rfind('\n') + 1);
  return std::stoll(last.substr(0, last.find(',')));
}

void InterruptAndResume(int signal_number) {
  testing::TempDir dir;
  testing::WriteShapesRecords(dir / "train.record", 4, 32, 3);
  WriteFileAtomic(dir / "pipeline.config", kConfig);
  const std::filesystem::path train_dir = dir / "run", csv = train_dir / "metrics.csv";
  const pid_t pid = StartTraining(dir / "pipeline.config", train_dir, dir / "log.txt");
  ASSERT_GT(pid, 0);
  // Wait until at least one step is done (its metrics.csv row is written), then interrupt.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (MetricsRows(csv) < 1 && std::chrono::steady_clock::now() < deadline && waitpid(pid, &status, WNOHANG) == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(MetricsRows(csv), 1) << ReadFile(dir / "log.txt");
  ASSERT_EQ(kill(pid, signal_number), 0);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  const std::string log = ReadFile(dir / "log.txt");
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << "\n" << log;
  EXPECT_EQ(WEXITSTATUS(status), 128 + signal_number) << log;
  EXPECT_NE(log.find("(interrupted)"), std::string::npos) << log;

  // The checkpoint is the interrupted step's: the last step logged, far before num_steps.
  const int64_t step = LastLoggedStep(csv);
  EXPECT_LT(step, 100000);
  const std::filesystem::path ckpt = train_dir / CheckpointFileName(step);
  ASSERT_TRUE(std::filesystem::exists(ckpt)) << log;
  ASSERT_EQ(ListStepCheckpoints(train_dir).back(), ckpt);

  // --resume loads it and continues from that step.
  TrainOptions resume;
  resume.pipeline_config = dir / "pipeline.config";
  resume.train_dir = train_dir;
  resume.resume = true;
  resume.num_steps = step + 2;
  resume.threads = 1;
  const TrainResult result = Train(resume);
  EXPECT_EQ(result.first_step, step);
  EXPECT_EQ(result.losses.size(), 2u);
  EXPECT_FALSE(result.interrupted);
  EXPECT_EQ(LastLoggedStep(csv), step + 2);
  EXPECT_TRUE(std::filesystem::exists(train_dir / CheckpointFileName(step + 2)));
}

TEST(TrainSignal, SigintSavesTheInterruptedStepExits130AndResumes) { InterruptAndResume(SIGINT); }

TEST(TrainSignal, SigtermSavesTheInterruptedStepExits143AndResumes) { InterruptAndResume(SIGTERM); }

}  // namespace
}  // namespace segtune
