// The layers of docs/architecture.md, read from the sources' own #include lines: a layer includes
// only itself and the layers below it, and the layers that must start fast or build without the
// heavy libraries do not include them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

namespace fs = std::filesystem;

// Bottom to top. A file in layer i may include segtune/<layer j>/ only for j <= i.
const std::vector<std::string> kLayers = {"core",   "formats", "data",   "config",    "evaluation", "report", "runtime",
                                          "models", "engine",  "export", "inference", "apps",       "cli"};

struct Include {
  std::string file;
  int line;
  std::string target;  // What is between the quotes or angle brackets.
  bool in_plugin_block;  // Inside `#if SEGTUNE_PLUGIN ... #endif` (cli/verb.h).
};

std::vector<Include> IncludesOf(const fs::path& path) {
  std::vector<Include> out;
  std::ifstream in(path);
  const std::regex include(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
  int depth_in_plugin = 0;  // #if nesting level inside a SEGTUNE_PLUGIN block (0 = outside).
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.rfind("#if SEGTUNE_PLUGIN", 0) == 0) depth_in_plugin = 1;
    else if (depth_in_plugin > 0 && line.rfind("#if", 0) == 0) ++depth_in_plugin;
    else if (depth_in_plugin > 0 && line.rfind("#endif", 0) == 0) --depth_in_plugin;
    std::smatch m;
    if (std::regex_search(line, m, include)) out.push_back({path.string(), n, m[1], depth_in_plugin > 0});
  }
  return out;
}

// Every source file of a layer (subfolders included).
std::vector<fs::path> FilesOf(const std::string& layer) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(segtune::testing::SourcePath("src/segtune/" + layer))) {
    const auto ext = e.path().extension();
    if (ext == ".h" || ext == ".cpp" || ext == ".cc") files.push_back(e.path());
  }
  return files;
}

bool StartsWithAny(const std::string& s, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (s.rfind(p, 0) == 0) return true;
  }
  return false;
}

const std::vector<std::string> kTorch = {"torch/", "ATen/", "c10/", "caffe2/"};
const std::vector<std::string> kOpenCv = {"opencv2/"};

TEST(Layering, NoLayerIncludesALayerAboveIt) {
  std::map<std::string, int> rank;
  for (size_t i = 0; i < kLayers.size(); ++i) rank[kLayers[i]] = int(i);
  std::string violations;
  size_t checked = 0;
  for (const auto& layer : kLayers) {
    for (const auto& file : FilesOf(layer)) {
      for (const Include& inc : IncludesOf(file)) {
        if (inc.target.rfind("segtune/", 0) != 0) continue;
        const std::string target_layer = inc.target.substr(8, inc.target.find('/', 8) - 8);
        ASSERT_TRUE(rank.count(target_layer)) << inc.file << ":" << inc.line << ": unknown layer " << target_layer;
        ++checked;
        if (rank[target_layer] > rank[layer]) {
          violations += inc.file + ":" + std::to_string(inc.line) + ": " + layer + " includes " + inc.target + "\n";
        }
      }
    }
  }
  EXPECT_GT(checked, 500u);  // The walk found the sources.
  EXPECT_EQ(violations, "") << "upward includes (docs/architecture.md)";
}

// The heavy includes `file` reaches, directly or through the segtune headers it includes (a layer
// that must build without LibTorch and OpenCV may not get them through a header of a lower layer
// either). Adds "<file>:<line>: <target> (via <header> < ... < <file>)" to *hits once per include line.
void AddHeavyIncludesReachedFrom(const fs::path& file, std::map<std::string, std::string>* hits) {
  std::set<std::string> seen;
  std::vector<std::pair<fs::path, std::string>> todo{{file, ""}};  // File, and the chain that reached it.
  while (!todo.empty()) {
    const auto [path, chain] = todo.back();
    todo.pop_back();
    if (!seen.insert(path.string()).second) continue;
    for (const Include& inc : IncludesOf(path)) {
      const std::string where = inc.file + ":" + std::to_string(inc.line) + ": " + inc.target;
      if (StartsWithAny(inc.target, kTorch) || StartsWithAny(inc.target, kOpenCv)) {
        hits->emplace(where, chain.empty() ? "" : " (via " + chain + ")");
      } else if (inc.target.rfind("segtune/", 0) == 0) {
        const fs::path header = segtune::testing::SourcePath("src/" + inc.target);
        const std::string name = path.filename().string();
        if (fs::exists(header)) todo.push_back({header, chain.empty() ? name : name + " < " + chain});
      }
    }
  }
}

// core, formats, config and report build without LibTorch and OpenCV: the executable links them and
// starts in milliseconds (docs/architecture.md).
TEST(Layering, CoreFormatsConfigAndReportIncludeNeitherLibTorchNorOpenCv) {
  std::map<std::string, std::string> hits;  // Include line -> the first chain that reached it.
  size_t checked = 0;
  for (const std::string layer : {"core", "formats", "config", "report"}) {
    for (const auto& file : FilesOf(layer)) {
      if (file.filename().string().rfind("torch_pch", 0) == 0) continue;  // The PCH's own files.
      ++checked;
      AddHeavyIncludesReachedFrom(file, &hits);
    }
  }
  std::string violations;
  for (const auto& [where, via] : hits) violations += where + via + "\n";
  EXPECT_GT(checked, 60u);  // The walk found the sources.
  EXPECT_EQ(violations, "");
}

TEST(Layering, DataAndEvaluationIncludeNoLibTorch) {
  std::string violations;
  for (const std::string layer : {"data", "evaluation"}) {
    for (const auto& file : FilesOf(layer)) {
      for (const Include& inc : IncludesOf(file)) {
        if (StartsWithAny(inc.target, kTorch)) violations += inc.file + ":" + std::to_string(inc.line) + "\n";
      }
    }
  }
  EXPECT_EQ(violations, "");
}

// The LibTorch-free runtime and `segtune infer`'s pipeline (inference/ outside inference/torch/) make
// libsegtune_infer_plugin.so, which must not load LibTorch: not even through a header they include.
TEST(Layering, RuntimeAndInferencePipelineReachNoLibTorch) {
  std::map<std::string, std::string> hits;
  size_t checked = 0;
  for (const std::string layer : {"runtime", "inference"}) {
    for (const auto& file : FilesOf(layer)) {
      if (file.parent_path().filename() == "torch") continue;  // inference/torch: the LibTorch tasks.
      ++checked;
      AddHeavyIncludesReachedFrom(file, &hits);
    }
  }
  std::string violations;
  for (const auto& [where, via] : hits) {
    if (where.find(": opencv2/") == std::string::npos) violations += where + via + "\n";
  }
  EXPECT_GT(checked, 30u);  // The walk found the sources.
  EXPECT_EQ(violations, "");
}

// The CLI front end (everything outside `#if SEGTUNE_PLUGIN` blocks, except the plugin's entry)
// includes neither library directly; tests/cli/startup_test.cpp checks what is actually loaded.
TEST(Layering, CliFrontEndIncludesHeavyLibrariesOnlyForThePlugin) {
  std::string violations;
  for (const auto& file : FilesOf("cli")) {
    if (file.filename() == "plugin_entry.cpp") continue;
    for (const Include& inc : IncludesOf(file)) {
      const bool heavy = StartsWithAny(inc.target, kTorch) || StartsWithAny(inc.target, kOpenCv);
      if (heavy && !inc.in_plugin_block) violations += inc.file + ":" + std::to_string(inc.line) + ": " + inc.target + "\n";
    }
  }
  EXPECT_EQ(violations, "");
}

}  // namespace
