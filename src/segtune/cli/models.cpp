// `segtune models`: the segmentation and detection models segtune can build, with their parameter
// counts and the torchvision zoo files that fit them (segmentation: input normalization and auxiliary
// head support too).

#include "segtune/cli/verb.h"
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>

#include "segtune/models/detection/detection_registry.h"
#include "segtune/models/semantic_registry.h"
#endif

namespace {

struct Options {};  // `segtune models` takes none.

segtune::cli::Runner Setup(CLI::App& app) {
  app.footer(
      "Parameters are counted for 21 classes with the aux head where the model has one (as the zoo\n"
      "checkpoints). '(backbone)' files are ImageNet classification checkpoints of the backbone only.\n"
      "Detection models are counted for COCO's 91 classes; fine-tuning from their zoo file keeps all but\n"
      "the box (and mask) predictor. `segtune weights list` shows the download catalog.");
  return segtune::cli::InPlugin("models", std::make_shared<Options>());
}

#if SEGTUNE_PLUGIN
int Run(const Options&) {
  segtune::PrintSemanticModelTable(std::cout);
  std::cout << "\n";
  segtune::detection::PrintDetectionModelTable(std::cout);
  return 0;
}
#endif

}  // namespace

SEGTUNE_VERB(models, 60, "List the segmentation and detection models, their parameters and fitting zoo files", Setup);
SEGTUNE_PLUGIN_RUN(models, Options, Run);
