// `segtune coco2tfrecord`: COCO JSON + images -> TF OD API TFRecords (see docs/records.md).
#include <iostream>

#include "segtune/cli/download_options.h"
#include "segtune/cli/verb.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/formats/coco.h"
#include "segtune/data/coco2tfrecord.h"

namespace {

struct Options {
  std::string annotations;
  segtune::CocoToTfRecordOptions convert;
  std::string images_dir;
};

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("--annotations", opts->annotations, "COCO JSON (instances)")->required();
  app.add_option("--images-dir,--images", opts->images_dir, "Directory the COCO file_names are relative to")->required();
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
    opts->convert.images_dir = opts->images_dir;
    opts->convert.threads = segtune::cli::Globals().threads;
    const segtune::CocoDataset coco = segtune::LoadCoco(opts->annotations);
    segtune::CocoToTfRecordReport report;
    try {
      report = segtune::ConvertCocoToTfRecord(coco, opts->convert);
    } catch (const segtune::FormatError& e) {  // "image 3 (a.jpg): ..." of which file.
      throw segtune::FormatError(opts->annotations + ": " + e.what());
    }
    segtune::Info("coco2tfrecord: " + segtune::WithCommas(report.images) + " images, " +
                  segtune::WithCommas(report.annotations_written) + " objects written, " +
                  segtune::WithCommas(report.skipped_total()) + " annotations skipped");
    for (const auto& [reason, n] : report.skipped) segtune::Info("  skipped " + segtune::WithCommas(n) + ": " + reason);
    for (const auto& path : report.outputs) std::cout << path.string() << "\n";
    return 0;
  };
}

}  // namespace

SEGTUNE_VERB(coco2tfrecord, 20, "Convert COCO JSON + images to TF OD API TFRecords", Setup);
