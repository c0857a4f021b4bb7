// Label Studio JSON (docs/formats.md §16): the pieces labelstudio_format.cpp puts together.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "segtune/data/convert/annotation_format.h"

namespace segtune {

// Reads a Label Studio JSON export (array of tasks with data/annotations/predictions) or its JSON-MIN
// export (flat records: the data fields plus one array of region values per labeling control).
LabeledDataset ReadLabelStudio(const std::filesystem::path& input, const ReadOptions& options,
                               ConversionReport* report);
// Writes Label Studio's import JSON: tasks with `annotations`, or `predictions` (model_version and
// per-result score) when any annotation has a score.
void WriteLabelStudio(const LabeledDataset& dataset, const std::filesystem::path& output,
                      const WriteOptions& options, ConversionReport* report);

// The image file name a task's data.image refers to: "/data/local-files/?d=a/b.jpg" -> "a/b.jpg"
// (percent-decoded), "/data/upload/3/1a2b3c4d-b.jpg" -> "1a2b3c4d-b.jpg" (the stored name), a URL or
// anything else unchanged.
std::string LabelStudioFileName(const std::string& data_image);
// The data.image Label Studio can serve for a file name: URLs unchanged, else
// "/data/local-files/?d=" + the percent-encoded relative path.
std::string LabelStudioImageRef(const std::string& file_name);

// The --label-studio-control values: "NAME" (the control of the first region kind written) or
// "KIND=NAME", KIND one of rectangle, polygon, brush (or rectanglelabels, ...). Throws UsageError
// naming the value for another kind, an empty name or a kind given twice. (The writer refuses one
// name for two kinds present: Label Studio refuses a labeling config with two controls of one name.)
std::map<std::string, std::string> ParseLabelStudioControls(const std::vector<std::string>& values);

// Where the reader keeps what it read that COCO has no field for, so that a round trip through a
// COCO file writes it back: the original data.image on the image, from_name/to_name on annotations.
constexpr const char* kLabelStudioImageKey = "labelstudio_image";
constexpr const char* kLabelStudioRegionKey = "labelstudio";

}  // namespace segtune
