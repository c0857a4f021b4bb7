// `segtune validate`: report (and optionally fix) problems in a COCO file, or in annotations of any
// readable format with --from (read by data/convert's reader, whose warnings are reported too).
#include "segtune/cli/verb.h"
#include "segtune/data/validate.h"
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>

#include "segtune/data/convert/convert.h"
#endif

namespace {

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<segtune::ValidateOptions>();
  app.add_option("input", opts->input, "COCO JSON to check (or a file/folder in the --from format)")
      ->required()
      ->check(CLI::ExistingPath);
  app.add_option("--from", opts->from,
                 "Annotation format of the input, as `segtune convert --from` (yolo, cvat, masks, ...), or auto to "
                 "tell it from the file/folder layout")
      ->capture_default_str();
  app.add_option("--images-dir", opts->images_dir,
                 "Also open every image (file_name relative to DIR); with --from, where the images are if not "
                 "where the format's layout puts them");
  app.add_flag("--fix", opts->fix, "Write a corrected copy (COCO JSON, whatever --from) to --output");
  app.add_option("-o,--output", opts->output, "Corrected COCO JSON (with --fix)");
  app.add_flag("--overwrite", opts->overwrite,
               "With --fix: replace a previous corrected copy (a COCO JSON file), or the input itself when -o "
               "names it and it is COCO; other files are never replaced");
  app.footer(
      "Reports, with counts and up to 5 examples each: duplicate ids, annotations on unknown images or\n"
      "categories, degenerate polygons, annotations out of bounds, bboxes inconsistent with their\n"
      "segmentation, y-flipped bboxes of old Labelbox exports, and (with --images-dir) missing or\n"
      "unreadable images and wrong width/height. Exit 1 when problems are found.\n"
      "With --from FORMAT (not coco) the input is read as `segtune convert` reads it, the reader's\n"
      "warnings are listed, and the image files are always checked, where the format's layout puts\n"
      "them (or under --images-dir).");
  return segtune::cli::InDataPlugin("validate", opts);  // Opening images needs OpenCV.
}

#if SEGTUNE_PLUGIN
// --from FORMAT: the dataset as the format's reader gives it; its images where its layout says.
segtune::ValidateResult ValidateOtherFormat(segtune::ValidateOptions opts) {
  segtune::CheckValidateOutput(opts);  // Before reading, as for COCO.
  segtune::ConversionReport read_report;
  segtune::ReadOptions read;
  read.images_dir = opts.images_dir;
  const segtune::LabeledDataset dataset = segtune::ReadAnnotations(opts.input, opts.from, read, &read_report);
  // COCO (found by auto) names its images relative to nothing in particular: checked only with
  // --images-dir, as without --from. Other layouts say where their images are.
  if (read_report.from != "coco" && opts.images_dir.empty()) {
    opts.images_dir = dataset.images_dir.empty() ? std::filesystem::path(".") : dataset.images_dir;
  }
  segtune::ValidateResult result = segtune::ValidateDataset(dataset.coco, opts);
  result.format = read_report.from;
  for (const auto& w : read_report.warnings) result.read_warnings.push_back(w.ToString());
  return result;
}

int Run(const segtune::ValidateOptions& opts) {
  const segtune::ValidateResult result = opts.from == "coco" ? segtune::RunValidate(opts) : ValidateOtherFormat(opts);
  std::cout << segtune::FormatValidateResult(result);
  if (result.fix) std::cout << "wrote " << result.fix->output.string() << "\n";
  return result.report.total() == 0 ? 0 : 1;  // Problems in the input, even if --fix repaired them.
}
#endif

}  // namespace

SEGTUNE_VERB(validate, 13, "Check a COCO file (or --from another format) for bad boxes, flipped y, unknown ids and missing images",
             Setup);
SEGTUNE_DATA_PLUGIN_RUN(validate, segtune::ValidateOptions, Run);
