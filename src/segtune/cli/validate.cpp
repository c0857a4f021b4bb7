// `segtune validate`: report (and optionally fix) problems in a COCO file.
#include "segtune/cli/verb.h"
#include "segtune/data/validate.h"
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>
#endif

namespace {

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<segtune::ValidateOptions>();
  app.add_option("input", opts->input, "COCO JSON to check")->required()->check(CLI::ExistingFile);
  app.add_option("--images-dir", opts->images_dir, "Also open every image (file_name relative to DIR)");
  app.add_flag("--fix", opts->fix, "Write a corrected copy to --output");
  app.add_option("-o,--output", opts->output, "Corrected COCO JSON (with --fix)");
  app.add_flag("--overwrite", opts->overwrite,
               "With --fix: replace a previous corrected copy (a COCO JSON file), or the input itself when -o "
               "names it; other files are never replaced");
  app.footer(
      "Reports, with counts and up to 5 examples each: duplicate ids, annotations on unknown images or\n"
      "categories, degenerate polygons, annotations out of bounds, bboxes inconsistent with their\n"
      "segmentation, y-flipped bboxes of old Labelbox exports, and (with --images-dir) missing or\n"
      "unreadable images and wrong width/height. Exit 1 when problems are found.");
  return segtune::cli::InDataPlugin("validate", opts);  // Opening images needs OpenCV.
}

#if SEGTUNE_PLUGIN
int Run(const segtune::ValidateOptions& opts) {
  const segtune::ValidateResult result = segtune::RunValidate(opts);
  std::cout << segtune::FormatValidateResult(result);
  if (result.fix) std::cout << "wrote " << result.fix->output.string() << "\n";
  return result.report.total() == 0 ? 0 : 1;  // Problems in the input, even if --fix repaired them.
}
#endif

}  // namespace

SEGTUNE_VERB(validate, 13, "Check a COCO file for bad boxes, flipped y, unknown ids and missing images", Setup);
SEGTUNE_DATA_PLUGIN_RUN(validate, segtune::ValidateOptions, Run);
