// `segtune labelmap coco.json -o label_map.pbtxt`: a TF OD API label map from COCO categories, or from
// the classes of any labeling-tool format with --from (data/convert/). COCO is read in the front end;
// other formats in the plugin (their readers decode masks with OpenCV).
#include <iostream>

#include "segtune/cli/verb.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"
#include "segtune/formats/coco.h"
#include "segtune/formats/label_map.h"
#if SEGTUNE_PLUGIN  // Reading other formats: plugin only (verb.h).
#include "segtune/data/convert/convert.h"
#endif

namespace {

struct Options {
  std::string annotations;
  std::string output;
  std::string from = "coco";
  bool overwrite = false;
};

// Writes the label map of `coco`'s categories; the exit code (1 if the map has errors).
int WriteLabelMap(const Options& opts, const segtune::CocoDataset& coco) {
  const segtune::LabelMap map = segtune::LabelMapFromCoco(coco);
  const auto problems = segtune::ValidateLabelMap(map);
  for (const auto& w : problems.warnings) segtune::Warn(opts.annotations + ": " + w);
  for (const auto& e : problems.errors) segtune::Warn(opts.annotations + ": " + e);
  segtune::SaveLabelMap(map, opts.output);
  segtune::Info("labelmap: " + std::to_string(map.item_size()) + " items");
  std::cout << opts.output << "\n";
  return problems.errors.empty() ? 0 : 1;
}

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("annotations", opts->annotations, "COCO JSON (or --from's format) whose categories become the items")
      ->required();
  app.add_option("-o,--output", opts->output, "Label map to write (protobuf text)")->required();
  app.add_option("--from", opts->from, "Format of the annotations, as `segtune convert --from` (auto tells)")
      ->capture_default_str();
  app.add_flag("--overwrite", opts->overwrite,
               "Replace a previous label map of this name; files that are not label maps are never replaced");
  app.footer("Each category becomes item { id: <category id> name: \"<category name>\" }.");
  return [opts] {
    segtune::CheckOutputFile(opts->output, opts->overwrite, {"labelmap", "--output", "label map", {}},
                             segtune::LooksLikeLabelMapFile);
    if (opts->from == "coco") return WriteLabelMap(*opts, segtune::LoadCoco(opts->annotations));
    return segtune::cli::RunInDataPlugin("labelmap", *opts);
  };
}

#if SEGTUNE_PLUGIN
int Run(const Options& opts) {
  segtune::ConversionReport report;
  const segtune::LabeledDataset dataset = segtune::ReadAnnotations(opts.annotations, opts.from, {}, &report);
  for (const auto& w : report.warnings) segtune::Warn("labelmap: " + w.ToString());
  return WriteLabelMap(opts, dataset.coco);
}
#endif

}  // namespace

SEGTUNE_VERB(labelmap, 25, "Write a TF OD API label map (pbtxt) from COCO categories", Setup);
SEGTUNE_DATA_PLUGIN_RUN(labelmap, Options, Run);
