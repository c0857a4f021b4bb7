// `segtune models`: the segmentation models segtune can build, with their parameter counts, input
// normalization, auxiliary head support and the torchvision zoo files that fit them.
#include <iostream>

#include "segtune/cli/verb.h"
#include "segtune/models/registry.h"

namespace {

segtune::cli::Runner Setup(CLI::App& app) {
  app.footer(
      "Parameters are counted for 21 classes with the aux head where the model has one (as the zoo\n"
      "checkpoints). '(backbone)' files are ImageNet classification checkpoints of the backbone only.");
  return [] {
    segtune::PrintModelTable(std::cout);
    return 0;
  };
}

}  // namespace

SEGTUNE_VERB(models, 60, "List the segmentation models, their parameters and fitting zoo files", Setup);
