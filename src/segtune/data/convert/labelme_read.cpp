// LabelMe JSON -> LabeledDataset (docs/formats.md §16). Points are taken as COCO coordinates as they
// are (labelme's own labelme2coco does the same). Categories are numbered 1..N in first-seen order;
// image ids 1..N in file order.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>

#include "segtune/core/error.h"
#include "segtune/core/base64.h"
#include "segtune/core/input_limits.h"
#include "segtune/data/convert/dataset_builder.h"
#include "segtune/data/convert/file_head.h"
#include "segtune/data/convert/json_input.h"
#include "segtune/data/convert/labelme.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/png_decode.h"
#include "segtune/formats/rle.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kPi = 3.14159265358979323846;
constexpr int kCircleVertices = 32;

std::vector<fs::path> JsonFiles(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_directory(input, ec)) return {input};
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(input, ec)) {
    if (entry.is_regular_file(ec) && entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw UsageError("labelme: " + input.string() + " holds no .json files");
  return files;
}

// One shape's geometry in pixels: a polygon, or (rectangle) a box.
struct ShapeGeometry {
  std::vector<double> polygon;
  std::optional<std::array<double, 4>> box;
  std::optional<Rle> mask;  // A `mask` shape, over the whole image.
};

class LabelMeReader {
 public:
  LabelMeReader(const fs::path& root, ConversionReport* report) : root_(root), report_(report) {}

  void ReadFile(const fs::path& file) {
    const json doc = LoadJsonFile(file);
    const JsonPlace place{file, ""};
    ExpectObject(doc, place);
    CocoImage image;
    image.id = {std::to_string(dataset_.coco.images.size() + 1), true};
    const fs::path relative_dir = fs::is_directory(root_) ? file.parent_path().lexically_relative(root_) : fs::path();
    const std::string image_path = StringAt(doc, "imagePath", place);
    // LabelMe on Windows writes backslashes.
    std::string portable = image_path;
    std::replace(portable.begin(), portable.end(), '\\', '/');
    image.file_name = (relative_dir / portable).lexically_normal().generic_string();
    if (doc.contains("imageWidth") && doc["imageWidth"].is_number()) image.width = PixelSizeAt(doc, "imageWidth", place);
    if (doc.contains("imageHeight") && doc["imageHeight"].is_number()) image.height = PixelSizeAt(doc, "imageHeight", place);
    if (doc.contains("imageData") && doc["imageData"].is_string()) Embed(doc["imageData"].get<std::string>(), place, &image);
    const json& shapes = ArrayAt(doc, "shapes", place);
    const std::string name = "image '" + image_path + "'";
    // Shapes of one label and group_id are one instance; others one each.
    std::map<std::pair<std::string, int64_t>, size_t> group_index;
    std::vector<std::pair<std::string, std::vector<ShapeGeometry>>> instances;
    for (size_t i = 0; i < shapes.size(); ++i) {
      const JsonPlace sp{file, name + ": shapes[" + std::to_string(i) + "]"};
      const json& shape = ExpectObject(shapes[i], sp);
      const std::string label = StringAt(shape, "label", sp);
      WarnDropped(shape, sp);
      std::optional<ShapeGeometry> geometry = Geometry(shape, sp, image);
      if (!geometry) continue;
      const auto group = shape.find("group_id");
      const bool grouped = group != shape.end() && group->is_number_integer();
      if (geometry->mask) {  // COCO cannot join a mask and polygons in one instance.
        if (grouped) report_->Warn(sp.file, sp.element, "a mask shape is an instance of its own; its group_id is not joined");
        instances.push_back({label, {std::move(*geometry)}});
        continue;
      }
      if (grouped) {
        const auto key = std::make_pair(label, group->get<int64_t>());
        const auto [it, added] = group_index.emplace(key, instances.size());
        if (!added) {
          instances[it->second].second.push_back(std::move(*geometry));
          continue;
        }
      }
      instances.push_back({label, {std::move(*geometry)}});
    }
    for (auto& [label, parts] : instances) AddInstance(label, parts, image, {file, name});
    dataset_.coco.images.push_back(std::move(image));
  }

  LabeledDataset Take() { return std::move(dataset_); }
  LabeledDataset& dataset() { return dataset_; }

 private:
  void Embed(const std::string& data, const JsonPlace& place, CocoImage* image) {
    std::optional<std::string> bytes = Base64Decode(data);
    if (!bytes) place.At("imageData").Fail("expected the image file's bytes in base64");
    const auto size = ReadImageSize(*bytes);
    if (!size) place.At("imageData").Fail("the decoded bytes are not a JPEG, PNG, GIF, BMP or WebP image");
    if ((image->width && image->width != size->width) || (image->height && image->height != size->height)) {
      // LabelMe itself takes the image's own size then (its shapes were drawn on that image).
      const JsonPlace at = place.At("imageData");
      report_->Warn(at.file, at.element,
                    "image is " + std::to_string(size->width) + "x" + std::to_string(size->height) +
                        " but imageWidth x imageHeight say " + std::to_string(image->width) + "x" +
                        std::to_string(image->height) + "; the image's size is used");
    }
    image->width = size->width, image->height = size->height;
    dataset_.embedded_images[image->file_name] = std::move(*bytes);
  }

  // COCO has no place for a shape's description or flags (LabelMe's per-shape attributes).
  void WarnDropped(const json& shape, const JsonPlace& sp) {
    const auto description = shape.find("description");
    if (description != shape.end() && description->is_string() && !description->get<std::string>().empty()) {
      report_->Warn(sp.file, sp.element, "description dropped");
    }
    const auto flags = shape.find("flags");
    if (flags != shape.end() && flags->is_object()) {
      for (const auto& [name, value] : flags->items()) {
        if (value == true) report_->Warn(sp.file, sp.element, "flag '" + name + "' dropped");
      }
    }
  }

  std::vector<std::array<double, 2>> Points(const json& shape, const JsonPlace& sp) {
    const json& points = ArrayAt(shape, "points", sp);
    std::vector<std::array<double, 2>> out;
    for (size_t i = 0; i < points.size(); ++i) {
      const json& p = points[i];
      if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) {
        sp.At("points[" + std::to_string(i) + "]").Fail("expected [x, y]");
      }
      out.push_back({p[0].get<double>(), p[1].get<double>()});
    }
    return out;
  }

  // LabelMe 5's `mask` shape: `points` are the corners [x1, y1], [x2, y2] of a box (inclusive, truncated
  // to integers as LabelMe does) and `mask` a base64 PNG of that box's size, non-zero inside.
  std::optional<ShapeGeometry> MaskGeometry(const json& shape, const JsonPlace& sp, const CocoImage& image) {
    if (image.width <= 0 || image.height <= 0) {
      report_->Warn(sp.file, sp.element, "mask shape skipped: the image's size is unknown (no imageWidth/imageHeight)");
      return std::nullopt;
    }
    if (int64_t(image.width) * image.height > GetInputLimits().max_image_pixels) {
      sp.Fail("mask shape on an image of " + std::to_string(image.width) + "x" + std::to_string(image.height) +
              ", above the --max-pixels limit");
    }
    const auto points = Points(shape, sp);
    if (points.size() != 2) sp.At("points").Fail("expected 2 corners for a mask, got " + std::to_string(points.size()));
    const int x1 = int(std::max(0.0, std::min(points[0][0], 1e9))), y1 = int(std::max(0.0, std::min(points[0][1], 1e9)));
    const int x2 = int(std::max(0.0, std::min(points[1][0], 1e9))), y2 = int(std::max(0.0, std::min(points[1][1], 1e9)));
    const std::optional<std::string> png = Base64Decode(StringAt(shape, "mask", sp));
    if (!png) sp.At("mask").Fail("expected a PNG in base64");
    const std::optional<PngSamples> bitmap = DecodePngSamples(*png, sp.file.string(), sp.element + ".mask");
    if (!bitmap) {
      report_->Warn(sp.file, sp.element, "mask shape skipped: an interlaced PNG");
      return std::nullopt;
    }
    if (x2 < x1 || y2 < y1 || bitmap->width != x2 - x1 + 1 || bitmap->height != y2 - y1 + 1 || x2 >= image.width ||
        y2 >= image.height) {
      sp.At("mask").Fail("a " + std::to_string(bitmap->width) + "x" + std::to_string(bitmap->height) +
                         " mask does not fill the box [" + std::to_string(x1) + ", " + std::to_string(y1) + "]-[" +
                         std::to_string(x2) + ", " + std::to_string(y2) + "] inside the " + std::to_string(image.width) +
                         "x" + std::to_string(image.height) + " image");
    }
    std::vector<uint8_t> full(size_t(image.width) * size_t(image.height), 0);
    for (int y = 0; y < bitmap->height; ++y) {
      for (int x = 0; x < bitmap->width; ++x) full[size_t(y1 + y) * image.width + (x1 + x)] = bitmap->at(x, y) != 0;
    }
    ShapeGeometry g;
    g.mask = RleEncode(full.data(), uint32_t(image.height), uint32_t(image.width));
    return g;
  }

  std::optional<ShapeGeometry> Geometry(const json& shape, const JsonPlace& sp, const CocoImage& image) {
    const std::string type = shape.contains("shape_type") && shape["shape_type"].is_string()
                                 ? shape["shape_type"].get<std::string>() : "polygon";  // LabelMe's default.
    if (type == "mask") return MaskGeometry(shape, sp, image);
    if (type != "polygon" && type != "rectangle" && type != "circle") {
      report_->Warn(sp.file, sp.element, "shape_type '" + type + "' is not a region: skipped");
      return std::nullopt;
    }
    const auto points = Points(shape, sp);
    ShapeGeometry g;
    if (type == "polygon") {
      if (points.size() < 3) {
        report_->Warn(sp.file, sp.element, "polygon of " + std::to_string(points.size()) + " point(s): skipped");
        return std::nullopt;
      }
      for (const auto& p : points) g.polygon.insert(g.polygon.end(), {p[0], p[1]});
      return g;
    }
    // LabelMe writes a rectangle as 2 opposite corners; X-AnyLabeling writes all 4. The box is their extent.
    const bool rectangle = type == "rectangle";
    if (points.size() != 2 && !(rectangle && points.size() == 4)) {
      sp.At("points").Fail("expected 2 points for a " + type + (rectangle ? " (or its 4 corners)" : "") + ", got " +
                           std::to_string(points.size()));
    }
    if (rectangle) {
      double x0 = points[0][0], y0 = points[0][1], x1 = x0, y1 = y0;
      for (const auto& p : points) {
        x0 = std::min(x0, p[0]), y0 = std::min(y0, p[1]), x1 = std::max(x1, p[0]), y1 = std::max(y1, p[1]);
      }
      g.box = std::array<double, 4>{x0, y0, x1 - x0, y1 - y0};
      return g;
    }
    // A circle is its centre and a point on it; COCO has no circle, so it becomes a polygon.
    const double r = std::hypot(points[1][0] - points[0][0], points[1][1] - points[0][1]);
    for (int k = 0; k < kCircleVertices; ++k) {
      const double t = 2 * kPi * k / kCircleVertices;
      g.polygon.insert(g.polygon.end(), {points[0][0] + r * std::cos(t), points[0][1] + r * std::sin(t)});
    }
    report_->Warn(sp.file, sp.element, "circle kept as a " + std::to_string(kCircleVertices) + "-point polygon");
    return g;
  }

  void AddInstance(const std::string& label, std::vector<ShapeGeometry>& parts, const CocoImage& image,
                   const JsonPlace& place) {
    CocoAnnotation a;
    a.id = int64_t(dataset_.coco.annotations.size()) + 1;
    a.image_id = image.id;
    a.category_id = CategoryIdFor(&dataset_.coco, label);
    if (parts.size() == 1 && parts[0].mask) {
      a.segmentation.rle = std::move(*parts[0].mask);
      a.bbox = RleToBbox(*a.segmentation.rle);
      a.area = double(RleArea(*a.segmentation.rle));
      dataset_.coco.annotations.push_back(std::move(a));
      return;
    }
    if (parts.size() == 1 && parts[0].box) {
      a.bbox = *parts[0].box;  // A lone rectangle stays a box.
    } else {
      for (auto& part : parts) {
        if (part.box) {  // A rectangle grouped with polygons becomes one of the parts.
          const auto [x, y, w, h] = *part.box;
          part.polygon = {x, y, x + w, y, x + w, y + h, x, y + h};
        }
        a.segmentation.polygons.push_back(std::move(part.polygon));
      }
    }
    try {
      FillBoxAndArea(&a, image.width, image.height);
    } catch (const FormatError& e) {  // A coordinate too large to rasterize; the rasterizer knows no place.
      place.Fail("shape '" + label + "': " + e.what());
    }
    dataset_.coco.annotations.push_back(std::move(a));
  }

  fs::path root_;
  ConversionReport* report_;
  LabeledDataset dataset_;
};

}  // namespace

LabeledDataset ReadLabelMe(const fs::path& input, const ReadOptions& options, ConversionReport* report) {
  std::error_code ec;
  const bool folder = fs::is_directory(input, ec);
  LabelMeReader reader(input, report);
  for (const auto& file : JsonFiles(input)) {
    try {
      reader.ReadFile(file);
    } catch (const json::exception& e) {
      throw FormatError(file, "", std::string("unexpected JSON field type (") + e.what() + ")");
    }
  }
  LabeledDataset dataset = reader.Take();
  dataset.images_dir = !options.images_dir.empty() ? options.images_dir : folder ? input : input.parent_path();
  return dataset;
}

int DetectLabelMe(const fs::path& input) {
  std::error_code ec;
  auto looks = [](const fs::path& file) {
    const std::string head = FileHead(file);
    // LabelMe writes "version", "flags" and "shapes" first; imagePath may be past a long shape list.
    return FirstNonBlank(head) == '{' && head.find("\"shapes\"") != std::string::npos &&
           (head.find("\"imagePath\"") != std::string::npos || head.find("\"version\"") != std::string::npos);
  };
  if (fs::is_regular_file(input, ec)) return input.extension() == ".json" && looks(input) ? 20 : 0;
  if (!fs::is_directory(input, ec)) return 0;
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(input, ec)) {
    if (!entry.is_regular_file(ec) || entry.path().extension() != ".json") continue;
    if (!looks(entry.path())) return 0;
    if (++seen == 3) break;
  }
  return seen > 0 ? 20 : 0;
}

}  // namespace segtune
