// COCO results JSON (a list of {image_id, category_id, bbox, score[, segmentation]}, what `segtune infer
// --coco-results` and detectron-style tools write) as an input: the predictions joined to the dataset
// they were made on (ReadOptions::reference), scores kept (docs/formats.md §18). Read-only: writing
// results is `segtune infer --coco-results`.
#include <fstream>

#include "segtune/core/error.h"
#include "segtune/data/convert/file_head.h"
#include "segtune/data/convert/formats_list.h"
#include "segtune/data/convert/prediction_reference.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

// A .json file holding an array whose first entries have "image_id" and "score".
int DetectCocoResults(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_regular_file(input, ec) || input.extension() != ".json") return 0;
  const std::string head = FileHead(input);
  if (FirstNonBlank(head) != '[') return 0;
  return head.find("\"image_id\"") != std::string::npos && head.find("\"score\"") != std::string::npos ? 10 : 0;
}

LabeledDataset ReadCocoResults(const fs::path& input, const ReadOptions& options, ConversionReport*) {
  if (options.reference.empty()) {
    throw UsageError("convert: " + input.string() + " holds COCO results, which name images and categories by id "
                     "only; pass --reference with the COCO file the predictions were made on");
  }
  LabeledDataset dataset =
      PredictionsOnReference(LoadCocoResults(input), LoadCoco(options.reference), input, options.reference);
  dataset.images_dir = options.images_dir.empty() ? options.reference.parent_path() : options.images_dir;
  return dataset;
}

}  // namespace

AnnotationFormat CocoResultsAnnotationFormat() {
  return {"coco-results", DetectCocoResults, ReadCocoResults, nullptr};
}

}  // namespace segtune
