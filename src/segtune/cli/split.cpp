// `segtune split`: disjoint train/val/test COCO files. A COCO input is split in the front end; with
// --from another annotation format, the input is read by data/convert's reader in the plugin (readers
// of mask formats need OpenCV) and the parts are written as COCO JSON all the same.
#include <iostream>

#include "segtune/cli/verb.h"
#include "segtune/data/split.h"
#if SEGTUNE_PLUGIN  // Reading other formats: plugin only (verb.h).
#include "segtune/core/log.h"
#include "segtune/data/convert/convert.h"
#endif

namespace {

struct Options {
  segtune::SplitOptions split;
  std::string from = "coco";
  double train = 0.8, val = 0.1, test = 0.1;
};

int PrintWritten(const std::vector<std::filesystem::path>& paths) {
  for (const auto& path : paths) std::cout << "wrote " << path.string() << "\n";
  return 0;
}

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("input", opts->split.input, "COCO JSON to split (or a file/folder in the --from format)")->required();
  app.add_option("-o,--output", opts->split.prefix, "Output prefix: writes PREFIX_train.json, ...")->required();
  app.add_option("--from", opts->from,
                 "Annotation format of the input, as `segtune convert --from` (yolo, cvat, masks, ...), or auto to "
                 "tell it from the file/folder layout; the parts are COCO JSON whatever the input")
      ->capture_default_str();
  app.add_option("--train", opts->train, "Fraction of images for training")->capture_default_str();
  app.add_option("--val", opts->val, "Fraction of images for validation")->capture_default_str();
  app.add_option("--test", opts->test, "Fraction of images for testing")->capture_default_str();
  app.add_flag("--overwrite", opts->split.overwrite,
               "Replace previous PREFIX_<part>.json outputs (COCO JSON files); other files are never replaced");
  app.add_option("--seed", opts->split.seed, "Shuffle seed; the same seed gives the same split")
      ->capture_default_str();
  app.footer("Splits by image (annotations follow their image); fractions must sum to 1; a part with\n"
             "fraction 0 is not written. Every part file is checked before any is written.\n"
             "With --from FORMAT the parts are COCO JSON; their file_name values stay relative to where the\n"
             "format's layout puts the images (printed: pass it as --images-dir to coco2tfrecord). The\n"
             "input's own splits (YOLO train/val, CVAT subsets, ...) are not kept: images are split anew.");
  return [opts] {
    opts->split.parts = {{"train", opts->train}, {"val", opts->val}, {"test", opts->test}};
    if (opts->from != "coco") return segtune::cli::RunInDataPlugin("split", *opts);
    return PrintWritten(segtune::SplitCocoFile(opts->split));
  };
}

#if SEGTUNE_PLUGIN
int Run(const Options& opts) {
  segtune::CheckSplitOutputs(opts.split);  // Before reading, as for COCO.
  segtune::ConversionReport report;
  const segtune::LabeledDataset dataset = segtune::ReadAnnotations(opts.split.input, opts.from, {}, &report);
  for (const auto& w : report.warnings) segtune::Warn("split: " + w.ToString());
  if (!dataset.subset_of_image.empty()) {
    segtune::Warn("split: " + opts.split.input.string() + ": the " + report.from +
                  " input's own splits are not kept; its images are split anew by --train/--val/--test");
  }
  if (report.from != "coco") {
    segtune::Info("split: file_name values are relative to " +
                  (dataset.images_dir.empty() ? std::string("the current directory") : dataset.images_dir.string()) +
                  " (pass it as --images-dir)");
  }
  return PrintWritten(segtune::WriteSplit(dataset.coco, opts.split));
}
#endif

}  // namespace

SEGTUNE_VERB(split, 12, "Split a COCO file (or --from another format) into disjoint train/val/test sets by image", Setup);
SEGTUNE_DATA_PLUGIN_RUN(split, Options, Run);
