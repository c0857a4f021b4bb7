// `segtune convert --from FORMAT --to FORMAT INPUT -o OUTPUT`: annotations from one labeling tool's
// format to another's (data/convert/). Runs in the plugin: mask formats decode and trace PNGs with
// OpenCV.
#include "segtune/cli/verb.h"
#include "segtune/data/convert/convert.h"  // Options types only.
#include "segtune/data/convert/format_names.h"
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>

#include "segtune/core/log.h"
#include "segtune/core/stopwatch.h"
#endif

namespace {

std::string FormatList(bool segtune::FormatName::*which) {
  std::string list;
  for (const auto& f : segtune::AnnotationFormatNames()) {
    if (f.*which) list += "\n  " + f.name + std::string(f.name.size() < 14 ? 14 - f.name.size() : 1, ' ') + f.description;
  }
  return list;
}

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<segtune::ConvertOptions>();
  app.add_option("input", opts->input, "Annotation file or folder to read")->required();
  app.add_option("-o,--output", opts->output, "File or folder to write (per --to)")->required();
  app.add_option("--from", opts->from, "Input format, or auto to tell it from the file/folder layout")
      ->capture_default_str();
  app.add_option("--to", opts->to, "Output format")->required();
  app.add_option("--images-dir", opts->images_dir,
                 "Folder of the input's images (default: the input's own layout); images embedded in the input "
                 "(LabelMe imageData) are written here");
  app.add_option("--reference", opts->reference,
                 "For predictions (--from coco-results or tfrecord): the COCO they were made on (e.g. from "
                 "labelbox2coco), giving images, category names and Labelbox data row ids");
  app.add_flag("--skip-missing", opts->skip_missing,
               "Convert without images whose files are missing (they are listed and counted) instead of stopping");
  app.add_flag("!--no-image-check", opts->check_images,
               "Do not check that image files exist (images are URLs or not downloaded yet)");
  app.add_option("--polygon-tolerance", opts->write.polygon_tolerance,
                 "Pixels a polygon traced from a mask may deviate from it (formats without masks)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--min-area", opts->write.min_area, "Mask regions smaller than this many pixels are dropped")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--label-studio-control", opts->write.label_studio_controls,
                 "--to labelstudio: the control name (from_name) of the project's labeling config the regions "
                 "belong to: NAME, or KIND=NAME per kind (rectangle, polygon, brush); default: the names read, "
                 "else 'label'");
  app.add_option("--label-studio-image", opts->write.label_studio_image,
                 "--to labelstudio: the image object's name (to_name) in the labeling config; default: the "
                 "name read, else 'image'");
  app.add_flag("--overwrite", opts->write.overwrite, "Replace a previous output of the same format (never other files)");
  app.footer("Formats read:" + FormatList(&segtune::FormatName::readable) +
             "\nFormats written:" + FormatList(&segtune::FormatName::writable) +
             "\nWhat a format cannot hold is reported as a warning naming the file and element (docs/formats.md).");
  return segtune::cli::InDataPlugin("convert", opts);
}

#if SEGTUNE_PLUGIN
int Run(const segtune::ConvertOptions& options) {
  const segtune::Stopwatch stopwatch;
  // The dataset is left to the process exit, which returns its pages at once: freeing it block by
  // block took 5 ms of converting 5,000 YOLO images and 12 ms for CVAT (0.07-0.09 s in all).
  auto* const left_to_exit = new segtune::LabeledDataset;
  const segtune::ConversionReport report = segtune::ConvertAnnotations(options, left_to_exit);
  segtune::Debug("convert: read and written in " + stopwatch.Text());
  for (const auto& warning : report.warnings) segtune::Warn("convert: " + warning.ToString());
  if (report.skipped_images > 0) {
    segtune::Warn("convert: skipped " + std::to_string(report.skipped_images) + " image(s) whose files are missing");
  }
  std::cout << "wrote " << options.output.string() << " (" << report.to << "): " << report.images << " images, "
            << report.annotations << " annotations, " << report.categories << " categories from " << report.from
            << "\n";
  return 0;
}
#endif

}  // namespace

SEGTUNE_VERB(convert, 12, "Convert annotations between labeling-tool formats (CVAT, Label Studio, YOLO, VOC, ...)",
             Setup);
SEGTUNE_DATA_PLUGIN_RUN(convert, segtune::ConvertOptions, Run);
