// COCO JSON (instances): the format LabeledDataset is made of, so reading and writing are direct.
#include <fstream>

#include "segtune/core/output_guard.h"
#include "segtune/data/convert/file_head.h"
#include "segtune/data/convert/formats_list.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

// A JSON object whose first KB names "images" and "annotations" or "categories".
int DetectCoco(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_regular_file(input, ec) || input.extension() != ".json") return 0;
  const std::string head = FileHead(input);
  if (FirstNonBlank(head) != '{') return 0;
  const bool images = head.find("\"images\"") != std::string::npos;
  const bool labels = head.find("\"annotations\"") != std::string::npos || head.find("\"categories\"") != std::string::npos;
  return images || labels ? 10 : 0;
}

LabeledDataset ReadCoco(const fs::path& input, const ReadOptions& options, ConversionReport*) {
  LabeledDataset dataset;
  dataset.coco = LoadCoco(input);
  dataset.images_dir = options.images_dir.empty() ? input.parent_path() : options.images_dir;
  return dataset;
}

void WriteCoco(const LabeledDataset& dataset, const fs::path& output, const WriteOptions& options,
               ConversionReport* report) {
  CheckOutputFile(output, options.overwrite, {"convert", "-o", "COCO JSON file", {}},
                  [](const fs::path& p) { return FileStartsWith(p, '{'); });
  SaveCoco(dataset.coco, output);
  report->written.push_back(output);
}

}  // namespace

AnnotationFormat CocoAnnotationFormat() {
  return {"coco", DetectCoco, ReadCoco, WriteCoco};
}

}  // namespace segtune
