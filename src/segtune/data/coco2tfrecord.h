// COCO JSON + image files -> sharded TFRecords of tf.train.Example, with the keys and value
// conventions of TF's create_coco_tf_record.py (see docs/records.md), optionally DeepLab-style
// semantic class masks. Images are passed through byte for byte (never re-encoded).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "segtune/formats/coco.h"
#include "segtune/core/download.h"
#include "segtune/data/convert/labeled_dataset.h"
#include "segtune/formats/od_example.h"

namespace segtune {

struct CocoToTfRecordOptions {
  std::filesystem::path images_dir;  // file_name is resolved against it.
  std::string output;                // Output path, or shard prefix when shards > 0.
  int shards = 0;                    // 0: one file at `output`; N: output-0000i-of-0000N, image k -> k % N.
  bool include_masks = false;        // image/object/mask: one 0/1 PNG per object.
  bool semantic_masks = false;       // image/segmentation/class/{encoded,format}.
  bool download = false;             // Fetch images given by URL (file_name, coco_url, flickr_url).
  DownloadOptions fetch;             // Limits (--max-bytes, --timeout) and retries for those fetches.
  int threads = 1;
  // Replace a previous output of the same name: the file `output` and every shard set of that
  // prefix (the ones the new run does not write are removed once it is complete). Without it, any
  // of them existing is a UsageError; a file there that is not a TFRecord is never replaced.
  bool overwrite = false;
  // Image bytes by file_name that the annotations carried inline (LabelMe imageData), used when the
  // file is not in images_dir. Not owned; null when there are none.
  const std::map<std::string, std::string>* embedded_images = nullptr;
  // Set when an annotation reader already looked for every image file in images_dir: the file_names
  // it did not find (the others are taken as present, not looked for again). Not owned.
  const std::set<std::string>* missing_image_files = nullptr;
};

struct CocoToTfRecordReport {
  int64_t images = 0;
  int64_t annotations_written = 0;
  // Annotations left out, by reason ("width or height <= 0", "box outside the image", ...).
  std::map<std::string, int64_t> skipped;
  std::vector<std::filesystem::path> outputs;
  int64_t skipped_total() const;
};

// Converts every image of `coco` (images without annotations become records without objects).
// Throws before writing anything if an image file is missing (listing them) or a category id is
// > 254 with semantic_masks; throws FormatError naming the image if its file is not a readable
// image or its size disagrees with the COCO width/height. Outputs appear only when complete.
CocoToTfRecordReport ConvertCocoToTfRecord(const CocoDataset& coco, const CocoToTfRecordOptions& options);

// The same for a dataset read by any annotation reader (data/convert/convert.h, `--from`): an empty
// options.images_dir means the reader's (dataset.images_dir), and the dataset's embedded images are
// used where their files are missing.
CocoToTfRecordReport ConvertLabeledDatasetToTfRecord(const LabeledDataset& dataset, CocoToTfRecordOptions options);

// Builds one image's record from its file bytes and annotations (exposed for tests and tools).
// Adds skipped annotations to *skipped by reason. `source` names the image in errors.
ObjectDetectionExample BuildDetectionExample(const CocoImage& image, std::string encoded,
                                             const std::vector<const CocoAnnotation*>& annotations,
                                             const std::map<int64_t, std::string>& category_names,
                                             const CocoToTfRecordOptions& options,
                                             std::map<std::string, int64_t>* skipped);

}  // namespace segtune
