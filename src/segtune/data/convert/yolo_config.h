// What a YOLO dataset is made of besides its label files: the class names and where each split's
// images are, from an Ultralytics `data.yaml` or a Darknet `obj.data` + `obj.names` (+ train.txt
// lists). docs/formats.md §17.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "segtune/data/convert/labeled_dataset.h"

namespace segtune {

struct YoloSplitSource {
  std::string split;             // "train", "val", "test"; "" when the dataset has no splits.
  std::filesystem::path path;    // A folder of images (searched recursively) or a list file.
  bool is_list = false;          // A text file with one image path per line.
  std::string origin;            // Where the config names it: "line 4", or the list's name ("train.txt").
};

struct YoloConfig {
  std::filesystem::path config_file;    // data.yaml, obj.data or obj.names.
  std::filesystem::path root;           // Relative image paths are relative to it.
  std::vector<std::string> names;       // Class id -> name.
  std::vector<YoloSplitSource> sources;
};

// The config file `input` names: itself if a file, else data.yaml / data.yml / dataset.yaml / the
// only *.yaml, obj.data, obj.names, data/obj.data inside the folder. "" if there is none.
std::filesystem::path FindYoloConfigFile(const std::filesystem::path& input);

// Reads the config. Throws FormatError naming the file and line for malformed files, a names/nc
// mismatch, a split path that does not exist, or a needed value beyond the YAML subset; warns in
// `report` for keys it ignores.
YoloConfig LoadYoloConfig(const std::filesystem::path& input, ConversionReport* report);

// The images of one source, in a stable order (sorted for folders, file order for lists), resolved
// against root (Ultralytics: a list line starting with "./" is relative to the list's folder).
// Throws FormatError naming the list file and line for an empty path entry.
std::vector<std::filesystem::path> YoloSourceImages(const YoloSplitSource& source, const std::filesystem::path& root);

}  // namespace segtune
