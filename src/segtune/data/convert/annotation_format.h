// The annotation formats `segtune convert` knows, in one table: a name, how to recognise an input
// of that format, and its reader and writer (either may be missing: CreateML is read-only, Labelbox
// MAL NDJSON is write-only).
//
// Adding a format: add its name and description to format_names.cpp (the front end's --help reads
// that table without linking any reader), write `<name>_format.cpp` in this folder with its
// Read/Write/Detect functions, declare its factory in formats_list.h and add it to the table in
// annotation_format.cpp. Nothing else changes: the CLI, auto-detection and the round-trip tests walk
// the tables (tests/data/convert checks the two agree).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "segtune/data/convert/format_names.h"
#include "segtune/data/convert/labeled_dataset.h"

namespace segtune {

struct ReadOptions {
  // Overrides the reader's image location (LabeledDataset::images_dir); "" keeps the reader's.
  std::filesystem::path images_dir;
  // The dataset predictions were made on (COCO, e.g. from labelbox2coco), for prediction inputs
  // (coco-results, tfrecord): images, categories and their extras (Labelbox data row ids) come from it.
  // Other readers ignore it.
  std::filesystem::path reference;
};

struct WriteOptions {
  bool overwrite = false;  // Replace a previous output of this format (core/output_guard.h rules).
  // Polygons traced from masks, for formats without masks (YOLO segments, LabelMe, CVAT polygons):
  double polygon_tolerance = 1.0;  // Douglas-Peucker tolerance in pixels (0 = every contour pixel).
  double min_area = 4.0;           // Regions below this many pixels are dropped (with a warning).
  // Label Studio: the names in the project's labeling config that regions refer to. Control names as
  // --label-studio-control takes them ("NAME" or "KIND=NAME", labelstudio.h ParseLabelStudioControls);
  // the image object's name. Empty: the names read from Label Studio, else those of its default
  // templates ("label", "image").
  std::vector<std::string> label_studio_controls;
  std::string label_studio_image;
};

struct AnnotationFormat {
  std::string name;  // As in format_names.h: "cvat", "labelstudio", ...
  // How sure we are that `input` (a file or a directory) is in this format: 0 = not this format,
  // higher = more specific (a Roboflow `_annotations.coco.json` beats plain COCO). Reads at most a
  // few KB; never throws.
  std::function<int(const std::filesystem::path& input)> detect;
  // Reads `input`. Throws FormatError naming the file, the line/element and what was expected.
  std::function<LabeledDataset(const std::filesystem::path& input, const ReadOptions& options,
                               ConversionReport* report)>
      read;
  // Writes `dataset` to `output` (a file or a directory, per output_kind), atomically. Throws
  // UsageError if output exists and may not be replaced (see WriteOptions::overwrite).
  std::function<void(const LabeledDataset& dataset, const std::filesystem::path& output,
                     const WriteOptions& options, ConversionReport* report)>
      write;
};

// Every format, in --help order.
const std::vector<AnnotationFormat>& AnnotationFormats();
// The format called `name`. Throws UsageError listing the names if there is none.
const AnnotationFormat& FindAnnotationFormat(const std::string& name);
// The readable format whose detect() scores `input` highest. Throws UsageError ("cannot tell the
// format of X; pass --from with one of ...") if none scores above 0 or two tie.
const AnnotationFormat& DetectAnnotationFormat(const std::filesystem::path& input);

}  // namespace segtune
