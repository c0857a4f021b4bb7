// What every annotation reader (CVAT, Label Studio, LabelMe, VOC, YOLO, mask folders, COCO, ...)
// produces and every writer consumes, and the report of what a conversion could not carry over.
//
// The dataset is the COCO model (formats/coco.h) because COCO holds everything the other formats
// hold except splits and embedded image bytes, which travel beside it here. Geometry is in pixels
// with a top-left origin, whatever the file used (percent, normalized, bottom-left): readers convert
// on the way in, writers on the way out.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "segtune/formats/coco.h"

namespace segtune {

struct LabeledDataset {
  CocoDataset coco;
  // Where coco.images[i].file_name is found when it is a relative path ("" = relative to the
  // current directory). Readers set it from the input's layout (a VOC JPEGImages/, YOLO images/);
  // --images-dir overrides it.
  std::filesystem::path images_dir;
  // Split of an image ("train", "val", "test", a CVAT subset name), by ImageId text, when the
  // format has splits. Images not in the map have none.
  std::map<std::string, std::string> subset_of_image;
  // Image bytes the input carries inline (LabelMe imageData), by file_name. The conversion writes
  // them into --images-dir; they are never written anywhere else.
  std::map<std::string, std::string> embedded_images;
  // Set by a reader that looked for every image's file itself, at ImageFilePath(file_name): the
  // file_names it did not find. The conversion's missing-image check then uses it rather than looking
  // at every file again. Unset: the check looks.
  std::optional<std::set<std::string>> missing_image_files;
};

// Where `file_name` of `dataset` is on disk: relative names are under dataset.images_dir.
std::filesystem::path ImageFilePath(const LabeledDataset& dataset, const std::string& file_name);
// The same path as text, built without std::filesystem's parsing (for checking thousands of images).
std::string ImageFilePathText(const LabeledDataset& dataset, const std::string& file_name);

// One thing a conversion could not carry over, or carried over differently: "polyline skipped",
// "attribute 'color' dropped", "file name '../x.jpg' renamed to 'x.jpg'".
struct ConversionWarning {
  std::string file;     // The file it is about (input or output).
  std::string element;  // Where in it: "image 'a.jpg': polyline 3", "line 12", "".
  std::string message;
  std::string ToString() const;  // "<file>: <element>: <message>"
};

struct ConversionReport {
  std::string from;  // Format names as resolved ("auto" becomes the detected one).
  std::string to;
  int images = 0;       // Written.
  int annotations = 0;  // Written.
  int categories = 0;
  std::vector<ConversionWarning> warnings;
  // Images the annotations reference whose files are not there (all of them, in input order).
  std::vector<std::string> missing_images;
  int skipped_images = 0;  // Dropped with --skip-missing (with their annotations).
  std::vector<std::filesystem::path> written;  // Files and directories the writer created.

  void Warn(const std::filesystem::path& file, std::string element, std::string message);
};

}  // namespace segtune
