// `segtune report RUN... -o report.html`: one self-contained HTML page of training curves,
// evaluation results and model cards (report/html_report.h). Runs in the front end: it needs
// neither LibTorch nor OpenCV.
#include <iostream>

#include "segtune/cli/verb.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"
#include "segtune/report/html_report.h"

namespace {

struct Options {
  std::vector<std::string> runs;
  std::string output = "report.html";
  bool overwrite = false;
};

// A previous report: an HTML file that says it is segtune's.
bool LooksLikeReport(const std::filesystem::path& path) {
  return segtune::ReadFile(path).rfind("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">", 0) == 0;
}

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("runs", opts->runs,
                 "Training directories (metrics.csv), export directories (model.json), or metrics.json files of "
                 "`segtune eval` / `segtune coco-eval`; several are shown side by side")
      ->required();
  app.add_option("-o,--output", opts->output, "HTML file to write")->capture_default_str();
  app.add_flag("--overwrite", opts->overwrite, "Replace a previous report of this name (never any other file)");
  app.footer("The page has no scripts and loads nothing: it opens offline in any browser.");
  return [opts] {
    segtune::CheckOutputFile(opts->output, opts->overwrite, {"report", "--output", "segtune report", {}},
                             LooksLikeReport);
    std::vector<segtune::report::RunData> runs;
    for (const std::string& run : opts->runs) runs.push_back(segtune::report::LoadRun(run));
    segtune::WriteFileAtomic(opts->output, segtune::report::RenderReport(runs));
    segtune::Info("report: " + std::to_string(runs.size()) + " run(s)");
    std::cout << opts->output << "\n";
    return 0;
  };
}

}  // namespace

SEGTUNE_VERB(report, 55, "Write one self-contained HTML page of training curves, evaluation and model cards", Setup);
