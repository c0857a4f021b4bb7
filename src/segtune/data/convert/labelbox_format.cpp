// Labelbox exports as a `segtune convert` input: the same reader as `segtune labelbox2coco`
// (data/labelbox.h), with its defaults. Masks given by URL are fetched with $LABELBOX_API_KEY, as
// labelbox2coco does; a mask that cannot be fetched is skipped with a warning.
#include <cstdlib>
#include <fstream>

#include "segtune/data/convert/file_head.h"
#include "segtune/data/convert/formats_list.h"
#include "segtune/data/labelbox.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

// A JSON array or NDJSON whose first KB has a Labelbox field: v1 "Labeled Data"/"DataRow ID",
// 2018 "Label", export v2 "data_row".
int DetectLabelbox(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_regular_file(input, ec)) return 0;
  const std::string head = FileHead(input);
  for (const char* field : {"\"data_row\"", "\"Labeled Data\"", "\"DataRow ID\"", "\"External ID\""}) {
    if (head.find(field) != std::string::npos) return 10;
  }
  return 0;
}

LabeledDataset ReadLabelbox(const fs::path& input, const ReadOptions& options, ConversionReport* report) {
  LabelboxOptions labelbox;
  labelbox.input = input;
  if (const char* key = std::getenv("LABELBOX_API_KEY")) labelbox.api_key = key;
  LabelboxReport counts;
  LabeledDataset dataset;
  dataset.coco = LabelboxToCoco(labelbox, &counts);
  dataset.images_dir = options.images_dir;
  for (const auto& [reason, n] : counts.skipped_objects) {
    report->Warn(input, "", std::to_string(n) + " object(s) skipped: " + reason);
  }
  if (counts.mask_failures > 0) {
    report->Warn(input, "", std::to_string(counts.mask_failures) +
                                " mask(s) could not be fetched (set LABELBOX_API_KEY, or use `segtune labelbox2coco`, "
                                "which has the download options)");
  }
  return dataset;
}

}  // namespace

AnnotationFormat LabelboxAnnotationFormat() { return {"labelbox", DetectLabelbox, ReadLabelbox, nullptr}; }

}  // namespace segtune
