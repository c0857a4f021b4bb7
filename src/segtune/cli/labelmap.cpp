// `segtune labelmap coco.json -o label_map.pbtxt`: a TF OD API label map from COCO categories.
#include <iostream>

#include "segtune/cli/verb.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"
#include "segtune/formats/coco.h"
#include "segtune/formats/label_map.h"

namespace {

struct Options {
  std::string annotations;
  std::string output;
  bool overwrite = false;
};

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("annotations", opts->annotations, "COCO JSON whose categories become the items")->required();
  app.add_option("-o,--output", opts->output, "Label map to write (protobuf text)")->required();
  app.add_flag("--overwrite", opts->overwrite,
               "Replace a previous label map of this name; files that are not label maps are never replaced");
  app.footer("Each category becomes item { id: <category id> name: \"<category name>\" }.");
  return [opts] {
    segtune::CheckOutputFile(opts->output, opts->overwrite, {"labelmap", "--output", "label map", {}},
                             segtune::LooksLikeLabelMapFile);
    const segtune::LabelMap map = segtune::LabelMapFromCoco(segtune::LoadCoco(opts->annotations));
    const auto problems = segtune::ValidateLabelMap(map);
    for (const auto& w : problems.warnings) segtune::Warn(opts->annotations + ": " + w);
    for (const auto& e : problems.errors) segtune::Warn(opts->annotations + ": " + e);
    segtune::SaveLabelMap(map, opts->output);
    segtune::Info("labelmap: " + std::to_string(map.item_size()) + " items");
    std::cout << opts->output << "\n";
    return problems.errors.empty() ? 0 : 1;
  };
}

}  // namespace

SEGTUNE_VERB(labelmap, 25, "Write a TF OD API label map (pbtxt) from COCO categories", Setup);
