// `segtune split`: disjoint train/val/test COCO files.
#include <iostream>

#include "segtune/cli/verb.h"
#include "segtune/data/split.h"

namespace {

struct Options {
  segtune::SplitOptions split;
  double train = 0.8, val = 0.1, test = 0.1;
};

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("input", opts->split.input, "COCO JSON to split")->required();
  app.add_option("-o,--output", opts->split.prefix, "Output prefix: writes PREFIX_train.json, ...")->required();
  app.add_option("--train", opts->train, "Fraction of images for training")->capture_default_str();
  app.add_option("--val", opts->val, "Fraction of images for validation")->capture_default_str();
  app.add_option("--test", opts->test, "Fraction of images for testing")->capture_default_str();
  app.add_flag("--overwrite", opts->split.overwrite,
               "Replace previous PREFIX_<part>.json outputs (COCO JSON files); other files are never replaced");
  app.add_option("--seed", opts->split.seed, "Shuffle seed; the same seed gives the same split")
      ->capture_default_str();
  app.footer("Splits by image (annotations follow their image); fractions must sum to 1; a part with\n"
             "fraction 0 is not written. Every part file is checked before any is written.");
  return [opts] {
    opts->split.parts = {{"train", opts->train}, {"val", opts->val}, {"test", opts->test}};
    for (const auto& path : segtune::SplitCocoFile(opts->split)) std::cout << "wrote " << path.string() << "\n";
    return 0;
  };
}

}  // namespace

SEGTUNE_VERB(split, 12, "Split a COCO file into disjoint train/val/test sets by image", Setup);
