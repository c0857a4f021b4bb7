// The command-line frame, tested by running the built binary.
#include <gtest/gtest.h>

#include <thread>

#include "test_util.h"

using segtune::testing::RunSegtune;

TEST(CliFrame, HelpListsVerbsWithDescriptions) {
  const auto r = RunSegtune("--help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("doctor"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Show versions, threads and devices"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--threads"), std::string::npos) << r.output;
}

TEST(CliFrame, EveryVerbHasHelp) {
  const auto list = RunSegtune("--help");
  ASSERT_EQ(list.exit_code, 0);
  const auto r = RunSegtune("doctor --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("self-check"), std::string::npos) << r.output;
}

TEST(CliFrame, VersionPrintsVersion) {
  const auto r = RunSegtune("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find(std::string("segtune ") + SEGTUNE_VERSION), std::string::npos) << r.output;
}

TEST(CliFrame, UnknownVerbIsUsageErrorWithSuggestion) {
  const auto r = RunSegtune("doctr");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("segtune: error: unknown verb 'doctr'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean 'doctor'"), std::string::npos) << r.output;
}

TEST(CliFrame, UnknownOptionIsUsageErrorWithSuggestion) {
  const auto r = RunSegtune("doctor --thread 2");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--threads"), std::string::npos) << r.output;
}

TEST(CliFrame, ThreadsDefaultToAllCores) {
  const auto r = RunSegtune("-v doctor");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_NE(r.output.find("threads: " + std::to_string(cores) + " (all cores"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("at::get_num_threads() = " + std::to_string(cores)), std::string::npos) << r.output;
}

TEST(CliFrame, ThreadsOptionOverridesDefault) {
  const auto r = RunSegtune("-v --threads 1 doctor");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("threads: 1 (from --threads)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("at::get_num_threads() = 1"), std::string::npos) << r.output;
}

TEST(CliFrame, BadDeviceIsUsageError) {
  const auto r = RunSegtune("--device tpu doctor");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("expected cpu, cuda or cuda:N"), std::string::npos) << r.output;
}

TEST(CliFrame, QuietSilencesInfoButNotResults) {
  const auto r = RunSegtune("-q doctor");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("self-check passed"), std::string::npos);
}

// Issue 19: one spelling per idea across verbs; the old spellings still work and --help lists them.
TEST(CliFrame, RenamedFlagsKeepTheirOldSpellingsAsAliases) {
  const struct {
    const char* verb;
    std::vector<std::string> names;
  } cases[] = {{"coco2tfrecord", {"--images-dir", "--images"}},
               {"synth", {"--num-images", "-n", "--images"}},
               {"coco-eval", {"--groundtruth", "--gt", "--predictions", "--dt"}}};
  for (const auto& c : cases) {
    const auto r = RunSegtune(std::string(c.verb) + " --help");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const auto& name : c.names) {
      const bool listed = r.output.find(name + ",") != std::string::npos || r.output.find(name + " ") != std::string::npos;
      EXPECT_TRUE(listed) << c.verb << " --help does not list " << name << "\n" << r.output;
    }
  }
}
