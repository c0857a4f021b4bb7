// `segtune records info|verify|export`: look inside TFRecord datasets (segtune's or TF's).
#include <iostream>

#include "segtune/cli/skip_corrupt.h"
#include "segtune/cli/verb.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/data/records.h"
#include "segtune/formats/tfrecord.h"
#if SEGTUNE_PLUGIN  // The work of `records export`: plugin only (verb.h).
#include "segtune/data/records_export.h"
#endif

namespace {

struct Options {
  std::vector<std::string> inputs;
  std::string images_dir;
  std::string output;
  bool overwrite = false;
};

std::vector<std::filesystem::path> Expand(const std::vector<std::string>& inputs) {
  std::vector<std::filesystem::path> files;
  for (const auto& in : inputs) {
    auto more = segtune::ExpandInputPaths(in);
    files.insert(files.end(), more.begin(), more.end());
  }
  return files;
}

constexpr const char* kInputHelp = "TFRecord files: paths, globs, PREFIX@N, or comma lists";

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.require_subcommand(1);
  CLI::App* info = app.add_subcommand("info", "Counts, classes, image sizes and keys present");
  info->add_option("inputs", opts->inputs, kInputHelp)->required();
  CLI::App* verify = app.add_subcommand("verify", "Check every CRC and that every Example parses; exit 1 on problems");
  verify->add_option("inputs", opts->inputs, kInputHelp)->required();
  CLI::App* exp = app.add_subcommand("export", "Write COCO JSON + image files from the records");
  exp->add_option("inputs", opts->inputs, kInputHelp)->required();
  exp->add_option("--images-dir", opts->images_dir, "Directory for the image files")->required();
  exp->add_option("-o,--output", opts->output, "COCO JSON to write")->required();
  exp->add_flag("--overwrite", opts->overwrite,
                "Replace a previous export (a COCO JSON -o, an --images-dir holding only images)");
  segtune::cli::AddSkipCorruptFlag(*exp);  // info and verify always report and go on.
  return [opts, info, verify] {
    if (info->parsed()) {
      const auto files = Expand(opts->inputs);
      const segtune::RecordsInfo report = segtune::InspectRecords(files);
      std::cout << segtune::FormatRecordsInfo(report);
      if (!report.problems.empty()) {  // A corrupt or non-TFRecord input is not a dataset summary.
        throw segtune::FormatError(std::to_string(report.problems.size()) + " unreadable record(s), so the counts "
                                   "above cover only the readable ones; first: " + report.problems.front());
      }
      return 0;
    }
    if (verify->parsed()) {
      const auto files = Expand(opts->inputs);
      const auto report = segtune::VerifyRecords(files);
      for (const auto& p : report.problems) std::cout << p << "\n";
      std::cout << report.files << " files, " << segtune::WithCommas(report.records) << " records ok, "
                << report.problems.size() << " problems\n";
      return report.problems.empty() ? 0 : 1;
    }
    return segtune::cli::RunInDataPlugin("records_export", *opts);  // Instance masks are decoded with OpenCV.
  };
}

#if SEGTUNE_PLUGIN
int RunExport(const Options& opts) {
  const auto report = segtune::ExportRecordsToCoco(Expand(opts.inputs), {opts.images_dir, opts.output, opts.overwrite});
  segtune::Info("records export: " + segtune::WithCommas(report.images) + " images, " +
                segtune::WithCommas(report.annotations) + " annotations");
  std::cout << opts.output << "\n";
  return 0;
}
#endif

}  // namespace

SEGTUNE_VERB(records, 21, "Inspect, verify or export TFRecord datasets (info, verify, export)", Setup);
SEGTUNE_DATA_PLUGIN_RUN(records_export, Options, RunExport);
