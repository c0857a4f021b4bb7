#include "segtune/data/convert/yolo_labels.h"

#include <cmath>
#include <cstdio>

#include "segtune/core/error.h"
#include "segtune/core/number_text.h"

namespace segtune {
namespace {

// How far outside [0, 1] a coordinate may be and still be clamped into it: Ultralytics' own check
// accepts 1% (labels exported with rounding, or boxes drawn a pixel past the edge).
constexpr double kCoordinateSlack = 0.01;

std::vector<std::string_view> Tokens(std::string_view line) {
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) tokens.push_back(line.substr(start, i - start));
  }
  return tokens;
}

YoloObject ParseLine(std::string_view line, const std::filesystem::path& file, int number, int num_classes) {
  const auto where = "line " + std::to_string(number);
  const std::vector<std::string_view> tokens = Tokens(line);
  const size_t n = tokens.size() - 1;
  if (n != 4 && (n < 6 || n % 2 != 0)) {
    throw FormatError(file, where, "expected 'class cx cy w h' (5 fields) or 'class x1 y1 x2 y2 x3 y3 ...' (a class and "
                      "3 or more x y pairs), got " + std::to_string(tokens.size()) + " fields");
  }
  YoloObject object;
  object.line = number;
  object.segment = n != 4;
  double class_value = 0;
  if (!ParseFiniteDouble(tokens[0], &class_value) || class_value != std::floor(class_value)) {
    throw FormatError(file, where, "class '" + std::string(tokens[0]) + "': expected an integer class id");
  }
  if (class_value < 0 || class_value >= num_classes) {
    throw FormatError(file, where, "class " + std::string(tokens[0]) + " is outside the dataset's " +
                      std::to_string(num_classes) + " classes (0.." + std::to_string(num_classes - 1) + ")");
  }
  object.class_id = static_cast<int>(class_value);
  object.values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    double& v = object.values[i];
    if (!ParseFiniteDouble(tokens[i + 1], &v)) {
      throw FormatError(file, where, "field " + std::to_string(i + 2) + " '" + std::string(tokens[i + 1]) + "': expected a number");
    }
    if (v < -kCoordinateSlack || v > 1 + kCoordinateSlack) {
      throw FormatError(file, where, "field " + std::to_string(i + 2) + " = " + std::string(tokens[i + 1]) +
                        ": outside [0, 1] by more than 0.01 (YOLO coordinates are fractions of the image width and height)");
    }
    v = std::min(1.0, std::max(0.0, v));
  }
  return object;
}

}  // namespace

std::vector<YoloObject> ParseYoloLabels(std::string_view text, const std::filesystem::path& file, int num_classes) {
  std::vector<YoloObject> objects;
  int number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    objects.push_back(ParseLine(line, file, number, num_classes));
  }
  return objects;
}

namespace {

// `image` with its last "/<folder>/" replaced by "/labels/" and the extension by ".txt"; with the
// extension replaced only when `keep_if_absent` and the path has no such folder, else empty.
std::filesystem::path LabelPathReplacing(const std::filesystem::path& image, const std::string& folder, bool keep_if_absent) {
  std::string s = image.generic_string();
  const std::string marker = "/" + folder + "/";
  const size_t at = s.rfind(marker);
  if (at != std::string::npos) {
    s.replace(at, marker.size(), "/labels/");
  } else if (!keep_if_absent) {
    return {};
  }
  return std::filesystem::path(s).replace_extension(".txt");
}

}  // namespace

std::filesystem::path YoloLabelPath(const std::filesystem::path& image) { return LabelPathReplacing(image, "images", true); }

std::filesystem::path DarknetVocLabelPath(const std::filesystem::path& image) {
  return LabelPathReplacing(image, "JPEGImages", false);
}

std::string FormatYoloLine(int class_id, const std::vector<double>& values) {
  std::string line = std::to_string(class_id);
  char buffer[32];
  for (const double v : values) {
    // %f is locale-independent for the decimal point only in the C locale, which segtune keeps.
    std::snprintf(buffer, sizeof(buffer), " %.6f", v);
    line += buffer;
  }
  return line;
}

}  // namespace segtune
