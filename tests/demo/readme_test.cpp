// README.md's commands work as written: the walkthrough's ```sh blocks run in order in an empty
// directory with the built binary, and every inline `segtune ...` synopsis matches one of them. (The
// `segtune demo` line is run by demo_test.cpp; `weights download` goes to a local mirror.)
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "http_server.h"
#include "readme_commands.h"
#include "test_util.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::HttpRoute;
using testing::HttpServer;
using testing::ReadmeCommand;
using testing::TempDir;

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// `s` as one shell word.
std::string Quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a README line in `dir` with `segtune` meaning the built binary (one thread: tests run in parallel).
CommandResult RunReadmeLine(const fs::path& dir, const std::string& line) {
  const std::string script = "segtune() { " + Quoted(SEGTUNE_BINARY) + " --threads 1 \"$@\"; }; " + line;
  return testing::RunCommand("cd " + Quoted(dir.string()) + " && bash -c " + Quoted(script));
}

// The zoo file name `segtune weights list` gives for a catalog name ("" if none).
std::string CatalogFile(const std::string& name) {
  const std::string list = testing::RunSegtune("weights list").output;
  const size_t at = list.find(name + "\n  file ");
  if (at == std::string::npos) return "";
  const size_t start = at + name.size() + 8;
  return list.substr(start, list.find('\n', start) - start);
}

// `segtune weights download NAME --to DIR` against a local mirror that serves a stand-in body: the
// command asks the mirror for the catalogued file and rejects it by its sha256 (the real zoo file needs
// the network). The test then puts torchvision's own state dict (random init, same names and shapes)
// where the download would have, so the README's next commands run on a real torchvision .pth.
void RunWeightsDownload(const fs::path& dir, const ReadmeCommand& command) {
  const auto words = testing::ShellWords(command.line);
  ASSERT_GE(words.size(), 4u) << command.line;
  const std::string name = words[3];
  std::string to = ".";
  for (size_t i = 4; i + 1 < words.size(); ++i) {
    if (words[i] == "--to") to = words[i + 1];
  }
  const std::string file = CatalogFile(name);
  ASSERT_FALSE(file.empty()) << "README line " << command.line_number << ": " << name << " is not in the catalog";
  HttpServer server;
  HttpRoute route;
  route.body = "not the zoo file";
  server.SetRoute("/" + file, route);
  const CommandResult result = RunReadmeLine(dir, command.line + " --mirror " + server.Url("/"));
  EXPECT_EQ(server.Hits("/" + file), 1) << result.output;
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("sha256"), std::string::npos) << result.output;

  const fs::path path = dir / to / file;
  const CommandResult made = testing::RunPython(
      "-c " + Quoted("import sys, torch, torchvision.models.segmentation as s; "
                     "torch.save(getattr(s, sys.argv[1])(weights=None, weights_backbone=None).state_dict(), sys.argv[2])") +
      " " + name + " " + Quoted(path.string()));
  ASSERT_EQ(made.exit_code, 0) << made.output;
}

TEST(Readme, WalkthroughCommandsRunAsWrittenInOrder) {
  const auto commands = testing::ReadReadmeCommands();
  ASSERT_GE(commands.block.size(), 20u) << "README.md lost its ```sh walkthrough";
  TempDir tmp;
  for (const ReadmeCommand& command : commands.block) {
    if (StartsWith(command.line, "segtune demo ")) continue;  // demo_test.cpp runs it.
    SCOPED_TRACE("README.md:" + std::to_string(command.line_number) + ": " + command.line);
    if (StartsWith(command.line, "segtune weights download ")) {
      RunWeightsDownload(tmp.path(), command);
      if (HasFatalFailure()) return;
      continue;
    }
    const CommandResult result = RunReadmeLine(tmp.path(), command.line);
    ASSERT_EQ(result.exit_code, 0) << result.output;
  }
  // The walkthrough's results are where it says.
  for (const char* file : {"model/exported/model.onnx", "model/metrics.json", "model/results.json",
                           "finetune/pipeline.config", "weights/lraspp_mobilenet_v3_large.safetensors",
                           "detect/exported/detector_features.onnx", "detect/metrics.json", "detect/results.json"}) {
    EXPECT_TRUE(fs::exists(tmp / file)) << file;
  }
}

TEST(Readme, EveryInlineCommandMatchesARunnableOne) {
  const auto commands = testing::ReadReadmeCommands();
  ASSERT_FALSE(commands.inline_spans.empty());
  for (const ReadmeCommand& synopsis : commands.inline_spans) {
    bool covered = false;
    for (const ReadmeCommand& command : commands.block) covered = covered || testing::CoveredBy(synopsis.line, command.line);
    EXPECT_TRUE(covered) << "README.md:" << synopsis.line_number << ": `" << synopsis.line
                         << "` matches no command of a ```sh block (same verb, options among its options)";
  }
}

TEST(Readme, EveryVerbIsShownInTheWalkthrough) {
  const auto commands = testing::ReadReadmeCommands();
  std::set<std::string> shown;
  for (const ReadmeCommand& command : commands.block) {
    const auto words = testing::ShellWords(command.line);
    if (words.size() > 1) shown.insert(words[1]);
  }
  // `segtune --help` lists the verbs as "  name   summary" lines after "Subcommands:".
  const std::string help = testing::RunSegtune("--help").output;
  const size_t list = help.find("Subcommands:");
  ASSERT_NE(list, std::string::npos) << help;
  std::istringstream lines(help.substr(list));
  std::string line;
  std::getline(lines, line);
  for (; std::getline(lines, line);) {
    if (line.size() < 3 || line.compare(0, 2, "  ") != 0 || line[2] == ' ') continue;  // Not a verb line.
    const auto words = testing::ShellWords(line);
    EXPECT_TRUE(shown.count(words[0])) << "README.md's walkthrough does not show `segtune " << words[0] << "`";
  }
}

}  // namespace
}  // namespace segtune
