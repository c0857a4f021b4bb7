// YOLO label files (`labels/.../x.txt`): one object per line, `class cx cy w h` (a box) or
// `class x1 y1 x2 y2 ...` (a polygon, Ultralytics "segment"), coordinates normalized to the image
// size (0..1, top-left origin), class ids from 0. docs/formats.md §17.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace segtune {

struct YoloObject {
  int class_id = 0;
  bool segment = false;        // Polygon; else a box.
  std::vector<double> values;  // Box: cx, cy, w, h. Segment: x1, y1, x2, y2, ... (3 points or more).
  int line = 0;                // 1-based line in the file.
};

// Parses a label file's text. Blank lines are skipped. Throws FormatError "<file>: line N: ..." for
// a line that is not a class id and 4 numbers or 6+ numbers in pairs, a class id outside
// [0, num_classes), and a coordinate outside [0, 1] by more than 0.01, as Ultralytics allows (within that is
// clamped).
std::vector<YoloObject> ParseYoloLabels(std::string_view text, const std::filesystem::path& file, int num_classes);

// The label file Ultralytics pairs with an image: the last "/images/" of the path becomes
// "/labels/" and the extension ".txt"; a path with no images folder has its label beside it
// (Darknet). `image` should be absolute so a leading images/ folder is matched too.
std::filesystem::path YoloLabelPath(const std::filesystem::path& image);
// The label file of darknet's VOC layout (AlexeyAB's replace_image_to_label): the last "/JPEGImages/"
// folder becomes "/labels/" and the extension ".txt"; empty when the path has no JPEGImages folder.
std::filesystem::path DarknetVocLabelPath(const std::filesystem::path& image);

// One line: the class id, then the values with 6 decimals, separated by spaces (no newline).
std::string FormatYoloLine(int class_id, const std::vector<double>& values);

}  // namespace segtune
