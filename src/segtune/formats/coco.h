// The COCO dataset model (images, categories, annotations) and its JSON reader/writer.
//
// Liberal in what it reads: image ids may be integers or strings (Labelbox ids are strings), unknown
// fields are kept in `extra` and written back, `segmentation` may be polygons, an uncompressed RLE
// (counts list) or a compressed RLE (counts string). Strict in what it writes: valid COCO JSON with
// ids written back in the type they were read.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "segtune/formats/rle.h"

namespace segtune {

// An image id as it appears in the file: 42 or "ckq1...". Compared and hashed by text.
struct ImageId {
  std::string text;
  bool is_number = false;  // Written back as a JSON number when true.
  bool operator==(const ImageId& o) const { return text == o.text; }
  bool operator!=(const ImageId& o) const { return text != o.text; }
  bool operator<(const ImageId& o) const { return text < o.text; }
};

struct CocoImage {
  ImageId id;
  std::string file_name;
  int width = 0;   // 0 when unknown (e.g. a Labelbox URL not yet downloaded).
  int height = 0;
  std::string coco_url;    // "" when absent.
  std::string flickr_url;  // "" when absent.
  nlohmann::json extra = nlohmann::json::object();  // Other fields (license, date_captured, ...).
};

struct CocoCategory {
  int64_t id = 0;
  std::string name;
  std::string supercategory;
  nlohmann::json extra = nlohmann::json::object();
};

// Either polygons (one or more parts, each [x1,y1,x2,y2,...] in pixels) or an RLE; empty if none.
struct Segmentation {
  std::vector<std::vector<double>> polygons;
  std::optional<Rle> rle;
  bool empty() const { return polygons.empty() && !rle; }
};

struct CocoAnnotation {
  int64_t id = 0;
  ImageId image_id;
  int64_t category_id = 0;
  Segmentation segmentation;
  double area = 0;
  std::array<double, 4> bbox{};  // [x, y, width, height], top-left origin, pixels.
  bool iscrowd = false;
  std::optional<double> score;  // Present in results files.
  nlohmann::json extra = nlohmann::json::object();
};

struct CocoDataset {
  nlohmann::json info = nlohmann::json::object();
  nlohmann::json licenses = nlohmann::json::array();
  std::vector<CocoImage> images;
  std::vector<CocoCategory> categories;
  std::vector<CocoAnnotation> annotations;
};

// Reads a COCO JSON file (fast: a 450 MB file loads in seconds). Throws FormatError naming the file
// and the offending element ("annotations[12]: bbox: expected 4 numbers") when malformed.
CocoDataset LoadCoco(const std::filesystem::path& path);
// Parses COCO JSON text; `source` names it in errors.
CocoDataset ParseCoco(std::string_view json_text, const std::string& source);
// Reads a COCO *results* file (a JSON array of annotations with score). Throws FormatError.
std::vector<CocoAnnotation> LoadCocoResults(const std::filesystem::path& path);

// Writes COCO JSON atomically (temp file + rename). RLEs are written with compressed string counts.
void SaveCoco(const CocoDataset& dataset, const std::filesystem::path& path);
std::string CocoToJson(const CocoDataset& dataset);

}  // namespace segtune
