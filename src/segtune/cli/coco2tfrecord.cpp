// `segtune coco2tfrecord`: COCO JSON + images -> TF OD API TFRecords (see docs/records.md). With
// --from another annotation format (data/convert/), the annotations are read by that format's
// reader; that work runs in the plugin (readers of mask formats need OpenCV), while plain COCO stays
// in the front end.
#include <iostream>

#include "segtune/cli/download_options.h"
#include "segtune/cli/verb.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/stopwatch.h"
#include "segtune/formats/coco.h"
#include "segtune/data/coco2tfrecord.h"
#if SEGTUNE_PLUGIN
#include "segtune/data/convert/convert.h"
#endif

namespace {

struct Options {
  std::string annotations;
  std::string from = "coco";
  segtune::CocoToTfRecordOptions convert;
  std::string images_dir;
};

int Finish(const segtune::CocoToTfRecordReport& report, const segtune::Stopwatch& stopwatch) {
  segtune::Debug("coco2tfrecord: read and written in " + stopwatch.Text());
  segtune::Info("coco2tfrecord: " + segtune::WithCommas(report.images) + " images, " +
                segtune::WithCommas(report.annotations_written) + " objects written, " +
                segtune::WithCommas(report.skipped_total()) + " annotations skipped");
  for (const auto& [reason, n] : report.skipped) segtune::Info("  skipped " + segtune::WithCommas(n) + ": " + reason);
  for (const auto& path : report.outputs) std::cout << path.string() << "\n";
  return 0;
}

#if SEGTUNE_PLUGIN
// --from FORMAT (not coco): any readable annotation format, images where its layout says.
int Run(const Options& opts) {
  const segtune::Stopwatch stopwatch;
  segtune::ConversionReport read_report;
  segtune::ReadOptions read;
  read.images_dir = opts.images_dir;
  const segtune::LabeledDataset dataset = segtune::ReadAnnotations(opts.annotations, opts.from, read, &read_report);
  for (const auto& warning : read_report.warnings) segtune::Warn("coco2tfrecord: " + warning.ToString());
  segtune::CocoToTfRecordOptions convert = opts.convert;
  convert.images_dir = opts.images_dir;
  convert.threads = segtune::cli::Globals().threads;
  try {
    return Finish(segtune::ConvertLabeledDatasetToTfRecord(dataset, convert), stopwatch);
  } catch (const segtune::FormatError& e) {  // "image 3 (a.jpg): ..." of which file.
    throw segtune::FormatError(opts.annotations + ": " + e.what());
  }
}
#endif

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("--annotations", opts->annotations, "COCO JSON (instances), or annotations in the --from format")
      ->required();
  app.add_option("--from", opts->from,
                 "Annotation format (as `segtune convert --from`: labelstudio, labelme, ...), or auto to tell it "
                 "from the file/folder layout")
      ->capture_default_str();
  app.add_option("--images-dir,--images", opts->images_dir,
                 "Directory the COCO file_names are relative to (required for coco; other formats default to "
                 "their own layout)");
  app.add_option("-o,--output", opts->convert.output, "Output TFRecord (the shard prefix with --shards)")->required();
  app.add_option("--shards", opts->convert.shards, "Write N shards PATH-0000i-of-0000N (image k -> shard k % N)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--include-masks", opts->convert.include_masks, "Add image/object/mask: a 0/1 PNG per object");
  app.add_flag("--semantic-masks", opts->convert.semantic_masks,
               "Add image/segmentation/class/encoded: PNG of category ids (0 background, 255 crowd)");
  app.add_flag("--overwrite", opts->convert.overwrite,
               "Replace a previous output of this name: the file and every shard set of the prefix (stale sets "
               "are removed); files that are not TFRecords are never replaced");
  app.add_flag("--download", opts->convert.download, "Fetch images given by URL instead of reading them from --images-dir");
  segtune::cli::AddDownloadLimitOptions(&app, &opts->convert.fetch);
  app.footer("Keys and conventions follow TF's create_coco_tf_record.py; annotations with an empty box or a box "
             "past the image are skipped and counted.");
  return [opts] {
    if (opts->from != "coco") return segtune::cli::RunInDataPlugin("coco2tfrecord", *opts);
    if (opts->images_dir.empty()) throw segtune::UsageError("coco2tfrecord: --images-dir is required with --from coco");
    opts->convert.images_dir = opts->images_dir;
    opts->convert.threads = segtune::cli::Globals().threads;
    const segtune::Stopwatch stopwatch;
    const segtune::CocoDataset coco = segtune::LoadCoco(opts->annotations);
    try {
      return Finish(segtune::ConvertCocoToTfRecord(coco, opts->convert), stopwatch);
    } catch (const segtune::FormatError& e) {  // "image 3 (a.jpg): ..." of which file.
      throw segtune::FormatError(opts->annotations + ": " + e.what());
    }
  };
}

}  // namespace

SEGTUNE_VERB(coco2tfrecord, 20, "Convert COCO JSON (or --from another annotation format) + images to TF OD API TFRecords",
             Setup);
SEGTUNE_DATA_PLUGIN_RUN(coco2tfrecord, Options, Run);
