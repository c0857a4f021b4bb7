// CVAT for images 1.1 XML (`annotations.xml` of a task, job or project export; docs/formats.md §15).
//
// Read: <meta> labels become categories with ids 1..N in label order (labels a shape names but <meta>
// does not declare are appended, with a warning); <image> becomes an image (ids kept, except in a
// project export whose subsets each number their images from 0: then 1..N, CVAT's id as cvat_id), its `subset`
// (project exports) a split; <box>, <polygon> and <mask> become annotations, with `occluded`,
// `z_order`, `group_id`, `source` and the <attribute> children kept in the annotation's `extra`
// ("attributes": {name: value}). Polylines, points, ellipses, cuboids, skeletons and tags have no
// COCO counterpart: skipped with a warning naming the image and the shape.
// Write: the same XML back; an annotation with an RLE becomes a <mask>, polygon parts become one
// <polygon> each, box-only annotations a <box>; a prediction's score becomes an attribute `score`,
// other single-valued annotation fields (VOC's difficult, pose, ...) attributes of their name.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <sstream>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/number_text.h"
#include "segtune/core/output_guard.h"
#include "segtune/core/parallel_for.h"
#include "segtune/data/convert/cvat_mask_rle.h"
#include "segtune/data/convert/file_head.h"
#include "segtune/data/convert/formats_list.h"
#include "segtune/data/convert/image_file_size.h"
#include "segtune/formats/wkt.h"
#include "segtune/formats/xml_document.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

// ---- reading -------------------------------------------------------------------------------------

// Where in the file an element is, for messages: "line 12: <image>", "line 12: image 'a.jpg'",
// "line 13: image 'a.jpg': polygon 3". Built only if a message needs it (building it for every image
// and shape was ~5% of a conversion).
class Place {
 public:
  explicit Place(std::string text) : text_(std::move(text)) {}
  explicit Place(const XmlElement& element, const std::string_view* image_name = nullptr, int index = 0)
      : element_(&element), image_name_(image_name), index_(index) {}

  const std::string& str() const {
    if (element_ != nullptr && text_.empty()) {
      text_ = "line " + std::to_string(element_->line) + ": ";
      text_ += image_name_ == nullptr ? "<" + std::string(element_->name) + ">" : "image '" + std::string(*image_name_) + "'";
      if (index_ > 0) text_ += ": " + std::string(element_->name) + " " + std::to_string(index_);
    }
    return text_;
  }

 private:
  mutable std::string text_;
  const XmlElement* element_ = nullptr;
  const std::string_view* image_name_ = nullptr;
  int index_ = 0;
};

std::string_view Require(const XmlElement& e, const char* name, const fs::path& file, const Place& where) {
  const std::string_view* value = e.Attribute(name);
  if (value == nullptr) throw FormatError(file, where.str(), "<" + std::string(e.name) + "> has no attribute '" + name + "'");
  return *value;
}

double ParseNumber(std::string_view text, const char* name, const fs::path& file, const Place& where) {
  double v = 0;
  if (!ParseFiniteDouble(text, &v)) {
    throw FormatError(file, where.str(), std::string(name) + ": expected a number, got '" + std::string(text) + "'");
  }
  return v;
}

int ParseInt(std::string_view text, const char* name, const fs::path& file, const Place& where) {
  const double v = ParseNumber(text, name, file, where);
  if (v != std::floor(v) || v < -2147483648.0 || v > 2147483647.0) {
    throw FormatError(file, where.str(), std::string(name) + ": expected an integer, got '" + std::string(text) + "'");
  }
  return int(v);
}

// "x0,y0;x1,y1;..." with at least 3 points.
std::vector<double> ParsePoints(std::string_view text, const fs::path& file, const Place& where) {
  std::vector<double> xy;
  xy.reserve(2 * (1 + std::count(text.begin(), text.end(), ';')));
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find(';', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view pair = text.substr(at, end - at);
    at = end + 1;
    const size_t comma = pair.find(',');
    if (comma == std::string_view::npos || pair.find(',', comma + 1) != std::string_view::npos) {
      throw FormatError(file, where.str(), "points: expected 'x,y;x,y;...', got '" + std::string(pair) + "' in '" +
                        std::string(text.substr(0, 80)) + "'");
    }
    xy.push_back(ParseNumber(pair.substr(0, comma), "points", file, where));
    xy.push_back(ParseNumber(pair.substr(comma + 1), "points", file, where));
  }
  if (xy.size() < 6) {
    throw FormatError(file, where.str(), "points: a polygon needs at least 3 points, got " + std::to_string(xy.size() / 2));
  }
  return xy;
}

std::array<double, 4> BoundsOf(const std::vector<double>& xy) {
  double x0 = xy[0], y0 = xy[1], x1 = xy[0], y1 = xy[1];
  for (size_t i = 0; i + 1 < xy.size(); i += 2) {
    x0 = std::min(x0, xy[i]), x1 = std::max(x1, xy[i]);
    y0 = std::min(y0, xy[i + 1]), y1 = std::max(y1, xy[i + 1]);
  }
  return {x0, y0, x1 - x0, y1 - y0};
}

bool IsCocoShape(const XmlElement& s) { return s.name == "box" || s.name == "polygon" || s.name == "mask"; }

// What one shape element becomes, worked out ahead (on any thread): the annotation's geometry
// (polygons and masks), extra fields and score, or what reading them threw, rethrown when the
// sequential pass reaches the shape. Ids, category and boxes are the sequential pass's.
struct PreparedShape {
  CocoAnnotation annotation;
  std::exception_ptr error;
};

// An image's shapes worked out ahead, and its size from the image file's header when the <image>
// has no width and height (Datumaro writes none when it does not know them).
struct PreparedImage {
  std::optional<ImageSize> size_from_file;
  std::vector<PreparedShape> shapes;  // One per child element; empty if the image cannot be read.
};

class CvatReader {
 public:
  // images_dir: where the images are (the dataset's images_dir), for the sizes the XML leaves out.
  CvatReader(fs::path file, fs::path images_dir, ConversionReport* report) : file_(std::move(file)), report_(report) {
    dataset_.images_dir = std::move(images_dir);
  }

  LabeledDataset Read() {
    const auto root = LoadXml(file_);
    if (root->name != "annotations") {
      throw FormatError(file_, "line " + std::to_string(root->line),
                        "expected the root element <annotations> of CVAT for images 1.1, got <" + std::string(root->name) + ">");
    }
    if (const XmlElement* meta = root->Child("meta")) ReadLabels(*meta);
    if (!root->Children("track").empty()) {
      report_->Warn(file_, "", "<track> elements (CVAT for video) skipped: export the task as CVAT for images");
    }
    // Parsing polygons, decoding masks and reading attributes is most of the reading: done for every
    // image on every core first; the images are then added in order, so ids, warnings and the first
    // error are those of a sequential read.
    const std::vector<const XmlElement*> images = root->Children("image");
    std::vector<PreparedImage> prepared(images.size());
    ParallelFor(images.size(), [&](size_t i) { prepared[i] = PrepareImage(*images[i]); });
    renumber_ = IdsRestartPerSubset(images);
    if (renumber_) {
      report_->Warn(file_, "", "image ids restart in each subset (a CVAT project export): images numbered 1.." +
                                   std::to_string(images.size()) + " in file order, CVAT's ids kept as cvat_id");
    }
    size_t shapes = 0;
    for (const auto& image : prepared) shapes += image.shapes.size();
    dataset_.coco.images.reserve(images.size());
    dataset_.coco.annotations.reserve(shapes);
    std::set<std::string> ids;
    for (size_t i = 0; i < images.size(); ++i) ReadImage(*images[i], prepared[i], &ids);
    return std::move(dataset_);
  }

 private:
  // Labels of a task, job or project export, in declaration order.
  void ReadLabels(const XmlElement& meta) {
    for (const char* owner : {"task", "job", "project"}) {
      const XmlElement* o = meta.Child(owner);
      const XmlElement* labels = o ? o->Child("labels") : nullptr;
      if (labels == nullptr) continue;
      for (const XmlElement* label : labels->Children("label")) {
        const std::string name = label->ChildText("name");
        if (name.empty()) throw FormatError(file_, "line " + std::to_string(label->line), "<label> has no <name>");
        AddCategory(name);
      }
      return;
    }
  }

  // True when an image id is used again by an image of another subset: CVAT numbers the frames of
  // each subset of a project from 0. (Twice within one subset stays an error.)
  static bool IdsRestartPerSubset(const std::vector<const XmlElement*>& images) {
    std::unordered_map<std::string, std::string> subset_of_id;
    for (const XmlElement* image : images) {
      const std::string_view* id = image->Attribute("id");
      const std::string_view* subset = image->Attribute("subset");
      if (id == nullptr) continue;
      const std::string_view subset_name = subset ? *subset : std::string_view();
      const auto [it, added] = subset_of_id.emplace(std::string(*id), std::string(subset_name));
      if (!added && it->second != subset_name) return true;
    }
    return false;
  }

  int64_t AddCategory(const std::string& name) {
    const auto it = category_of_label_.find(name);
    if (it != category_of_label_.end()) return it->second;
    const int64_t id = int64_t(dataset_.coco.categories.size()) + 1;
    dataset_.coco.categories.push_back({id, name, "", nlohmann::json::object()});
    category_of_label_[name] = id;
    return id;
  }

  // An <image> without width and height (Datumaro leaves them out when it does not know them): the
  // size comes from the image file's header.
  static bool LacksSize(const XmlElement& e) { return e.Attribute("width") == nullptr && e.Attribute("height") == nullptr; }

  // The shapes of image `e`, one per child element (none if the image's own attributes are malformed:
  // the sequential pass reports that first).
  PreparedImage PrepareImage(const XmlElement& e) const {
    PreparedImage prepared;
    const std::string_view* name = e.Attribute("name");
    if (name == nullptr) return prepared;
    int width = 0, height = 0;
    try {
      if (LacksSize(e)) {
        prepared.size_from_file = ReadImageFileSize(ImageFilePath(dataset_, std::string(*name)));
        if (!prepared.size_from_file) return prepared;
        width = prepared.size_from_file->width, height = prepared.size_from_file->height;
      } else {
        width = ParseInt(Require(e, "width", file_, Place("")), "width", file_, Place(""));
        height = ParseInt(Require(e, "height", file_, Place("")), "height", file_, Place(""));
      }
    } catch (const Error&) {
      return prepared;
    }
    if (width <= 0 || height <= 0) return prepared;
    prepared.shapes = PrepareShapes(e, *name, width, height);
    return prepared;
  }

  std::vector<PreparedShape> PrepareShapes(const XmlElement& e, std::string_view image_name, int width, int height) const {
    const std::string_view* name = &image_name;
    std::vector<PreparedShape> shapes(e.children.size());
    for (size_t i = 0; i < e.children.size(); ++i) {
      const XmlElement& shape = *e.children[i];
      if (!IsCocoShape(shape)) continue;
      const Place where(shape, name, int(i) + 1);
      CocoAnnotation& a = shapes[i].annotation;
      try {
        if (shape.name == "polygon") ReadPolygon(shape, where, &a);
        if (shape.name == "mask") ReadMask(shape, height, width, where, &a);
        ReadExtra(shape, where, &a);
      } catch (...) {
        shapes[i].error = std::current_exception();
      }
    }
    return shapes;
  }

  void ReadImage(const XmlElement& e, PreparedImage& prepared, std::set<std::string>* ids) {
    const Place tag(e);
    CocoImage image;
    image.id = {std::string(Require(e, "id", file_, tag)), true};
    image.id.is_number = !image.id.text.empty() && image.id.text.size() <= 18 &&
                         image.id.text.find_first_not_of("0123456789") == std::string::npos;
    const std::string_view* subset_attribute = e.Attribute("subset");
    const std::string subset = subset_attribute ? std::string(*subset_attribute) : "";
    const std::string cvat_id = image.id.text;
    const std::string key = subset + '\n' + cvat_id;  // Unique per subset.
    if (renumber_) {
      image.extra["cvat_id"] = image.id.is_number ? nlohmann::json(std::stoll(image.id.text)) : nlohmann::json(image.id.text);
      image.id = {std::to_string(dataset_.coco.images.size() + 1), true};
    }
    image.file_name = Require(e, "name", file_, tag);
    const std::string_view file_name = image.file_name;
    const Place where(e, &file_name);
    if (LacksSize(e)) {
      if (!prepared.size_from_file) {
        throw FormatError(file_, where.str(), "<image> has no width and height, and " +
                                                  ImageFilePath(dataset_, image.file_name).string() +
                                                  " is not a readable image to take them from (pass --images-dir with the "
                                                  "images' folder)");
      }
      image.width = prepared.size_from_file->width, image.height = prepared.size_from_file->height;
    } else {
      image.width = ParseInt(Require(e, "width", file_, where), "width", file_, where);
      image.height = ParseInt(Require(e, "height", file_, where), "height", file_, where);
    }
    if (image.width <= 0 || image.height <= 0) throw FormatError(file_, where.str(), "width and height must be positive");
    if (!ids->insert(key).second) {
      throw FormatError(file_, where.str(), "image id " + cvat_id + " used twice" +
                                                (subset_attribute ? " in subset '" + subset + "'" : ""));
    }
    if (!subset.empty()) dataset_.subset_of_image[image.id.text] = subset;
    dataset_.coco.images.push_back(image);
    for (size_t i = 0; i < e.children.size(); ++i) {
      ReadShape(*e.children[i], image, int(i) + 1, i < prepared.shapes.size() ? &prepared.shapes[i] : nullptr);  // Takes its annotation.
    }
  }

  void ReadShape(const XmlElement& s, const CocoImage& image, int index, PreparedShape* prepared) {
    const std::string_view file_name = image.file_name;
    const Place where(s, &file_name, index);
    if (!IsCocoShape(s)) {
      report_->Warn(file_, where.str(), "<" + std::string(s.name) + "> has no COCO counterpart; skipped");
      return;
    }
    if (prepared == nullptr) throw Error(file_.string() + ": " + where.str() + ": internal: shape not prepared");
    const std::string label(Require(s, "label", file_, where));
    if (!category_of_label_.count(label)) {
      report_->Warn(file_, where.str(), "label '" + label + "' is not declared in <meta>; added");
    }
    CocoAnnotation& a = prepared->annotation;
    a.id = int64_t(dataset_.coco.annotations.size()) + 1;
    a.image_id = image.id;
    a.category_id = AddCategory(label);
    if (s.name == "box") ReadBox(s, where, &a);
    if (prepared->error) std::rethrow_exception(prepared->error);
    dataset_.coco.annotations.push_back(std::move(a));
  }

  void ReadBox(const XmlElement& s, const Place& where, CocoAnnotation* a) {
    const double xtl = ParseNumber(Require(s, "xtl", file_, where), "xtl", file_, where);
    const double ytl = ParseNumber(Require(s, "ytl", file_, where), "ytl", file_, where);
    const double xbr = ParseNumber(Require(s, "xbr", file_, where), "xbr", file_, where);
    const double ybr = ParseNumber(Require(s, "ybr", file_, where), "ybr", file_, where);
    a->bbox = {xtl, ytl, xbr - xtl, ybr - ytl};
    a->area = a->bbox[2] * a->bbox[3];
    const std::string_view* rotation = s.Attribute("rotation");
    const double degrees = rotation ? ParseNumber(*rotation, "rotation", file_, where) : 0;
    if (degrees != 0) {
      a->extra["rotation"] = degrees;
      report_->Warn(file_, where.str(), "rotated box: COCO boxes are axis-aligned; the rotation is kept in extra only");
    }
  }

  void ReadPolygon(const XmlElement& s, const Place& where, CocoAnnotation* a) const {
    std::vector<double> xy = ParsePoints(Require(s, "points", file_, where), file_, where);
    a->bbox = BoundsOf(xy);
    a->area = std::fabs(ShoelaceArea(xy));
    a->segmentation.polygons.push_back(std::move(xy));
  }

  void ReadMask(const XmlElement& s, int image_height, int image_width, const Place& where, CocoAnnotation* a) const {
    const std::string context = file_.string() + ": " + where.str();
    CvatMaskRle mask;
    mask.counts = ParseCvatRleCounts(std::string(Require(s, "rle", file_, where)), context);
    mask.left = ParseInt(Require(s, "left", file_, where), "left", file_, where);
    mask.top = ParseInt(Require(s, "top", file_, where), "top", file_, where);
    mask.width = ParseInt(Require(s, "width", file_, where), "width", file_, where);
    mask.height = ParseInt(Require(s, "height", file_, where), "height", file_, where);
    Rle rle = CvatMaskToRle(mask, image_height, image_width, context);
    a->bbox = RleToBbox(rle);
    a->area = double(RleArea(rle));
    a->segmentation.rle = std::move(rle);
  }

  // occluded, z_order, group_id and source as extra fields; <attribute> children as "attributes".
  void ReadExtra(const XmlElement& s, const Place& where, CocoAnnotation* a) const {
    for (const char* name : {"occluded", "z_order", "group_id"}) {
      if (const std::string_view* v = s.Attribute(name)) a->extra[name] = ParseInt(*v, name, file_, where);
    }
    if (const std::string_view* v = s.Attribute("source")) a->extra["source"] = std::string(*v);
    nlohmann::json attributes = nlohmann::json::object();
    for (const auto& child : s.children) {
      if (child->name != "attribute") continue;
      const std::string name(Require(*child, "name", file_, Place(*child)));
      const std::string value(child->text);
      // A prediction written by segtune comes back with its score as a number.
      if (name == "score") {
        char* end = nullptr;
        const double score = std::strtod(value.c_str(), &end);
        if (!value.empty() && end == value.c_str() + value.size() && std::isfinite(score)) {
          a->score = score;
          continue;
        }
      }
      attributes[name] = value;
    }
    if (!attributes.empty()) a->extra["attributes"] = std::move(attributes);
  }

  fs::path file_;
  ConversionReport* report_;
  LabeledDataset dataset_;
  std::map<std::string, int64_t> category_of_label_;
  bool renumber_ = false;  // IdsRestartPerSubset.
};

fs::path CvatXmlOf(const fs::path& input) {
  std::error_code ec;
  return fs::is_directory(input, ec) ? input / "annotations.xml" : input;
}

// An XML file (or a folder holding annotations.xml) whose root is <annotations> with CVAT's <version>
// or <meta>. Pascal VOC's files have the root <annotation> (singular).
int DetectCvat(const fs::path& input) {
  const fs::path file = CvatXmlOf(input);
  std::error_code ec;
  if (!fs::is_regular_file(file, ec) || file.extension() != ".xml") return 0;
  const std::string head = FileHead(file);
  if (head.find("<annotations>") == std::string::npos && head.find("<annotations ") == std::string::npos) return 0;
  if (head.find("<version>") == std::string::npos && head.find("<meta>") == std::string::npos) return 0;
  return file == input ? 20 : 15;
}

LabeledDataset ReadCvat(const fs::path& input, const ReadOptions& options, ConversionReport* report) {
  const fs::path file = CvatXmlOf(input);
  std::error_code ec;
  // A CVAT export zip unpacked: annotations.xml beside images/.
  const fs::path images = file.parent_path() / "images";
  const fs::path images_dir = !options.images_dir.empty() ? options.images_dir
                              : fs::is_directory(images, ec) ? images
                                                             : file.parent_path();
  return CvatReader(file, images_dir, report).Read();
}

// ---- writing -------------------------------------------------------------------------------------

std::string Fixed2(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.2f", v);
  return buffer;
}

std::string AttributeText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

// Names CVAT keeps for its own shape fields (cvat/apps/dataset_manager: CVAT_INTERNAL_ATTRIBUTES): as
// <attribute>s an upload would drop them. CVAT's and Datumaro's COCO exports put occluded and rotation
// among the "attributes"; they go back into the shape's own fields (ShapeField).
const std::set<std::string>& CvatInternalAttributes() {
  static const std::set<std::string> kNames = {"occluded", "rotation", "outside", "keyframe", "track_id"};
  return kNames;
}

// What goes out as <attribute> children: the annotation's "attributes" (but CVAT's internal ones),
// then its other scalar fields that CVAT has no place for (VOC's difficult, truncated, pose; a COCO
// file's own fields), so that they reach CVAT instead of being lost.
nlohmann::json AttributesOf(const CocoAnnotation& a) {
  static const std::set<std::string> kShapeFields = {"attributes", "occluded", "z_order", "group_id", "source", "rotation"};
  nlohmann::json out = nlohmann::json::object();
  if (const auto it = a.extra.find("attributes"); it != a.extra.end() && it->is_object()) {
    for (const auto& [name, value] : it->items()) {
      if (!CvatInternalAttributes().count(name)) out[name] = value;
    }
  }
  if (!a.extra.is_object()) return out;
  for (const auto& [name, value] : a.extra.items()) {
    if (!kShapeFields.count(name) && value.is_primitive() && !value.is_null() && !out.contains(name)) out[name] = value;
  }
  return out;
}

// An integer field as CVAT writes it: integers, booleans (COCO exports' "occluded": true) and whole
// numbers are taken; anything else gives nullopt.
std::optional<int64_t> WholeNumber(const nlohmann::json& value) {
  if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double v = value.get<double>();
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15) return static_cast<int64_t>(v);
  }
  return std::nullopt;
}

// A shape field (occluded, z_order, group_id, rotation) from the annotation's extra fields, else from
// its "attributes" (where CVAT's and Datumaro's COCO exports keep occluded and rotation).
const nlohmann::json* ShapeField(const nlohmann::json& extra, const char* name) {
  if (const auto it = extra.find(name); it != extra.end()) return &*it;
  const auto attributes = extra.find("attributes");
  if (attributes == extra.end() || !attributes->is_object()) return nullptr;
  const auto it = attributes->find(name);
  return it == attributes->end() ? nullptr : &*it;
}

int64_t ExtraInt(const nlohmann::json& extra, const char* name, int64_t fallback) {
  const nlohmann::json* value = ShapeField(extra, name);
  const std::optional<int64_t> number = value ? WholeNumber(*value) : std::nullopt;
  return number ? *number : fallback;
}

std::optional<int64_t> NumericId(const ImageId& id) {
  if (!id.is_number || id.text.empty() || id.text.size() > 18 || id.text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoll(id.text);
}

class CvatWriter {
 public:
  CvatWriter(const LabeledDataset& dataset, fs::path output, ConversionReport* report)
      : dataset_(dataset), output_(std::move(output)), report_(report) {
    for (const auto& c : dataset.coco.categories) name_of_category_[c.id] = c.name;
    for (const auto& a : dataset.coco.annotations) annotations_of_image_[a.image_id.text].push_back(&a);
  }

  std::string Xml() {
    out_ << "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<annotations>\n  <version>1.1</version>\n";
    Meta();
    // CVAT's image ids are numbers: numeric ids are kept, the others numbered after the largest.
    int64_t next_id = 0;
    for (const auto& image : dataset_.coco.images) {
      if (const auto id = NumericId(image.id)) next_id = std::max(next_id, *id + 1);
    }
    for (const auto& image : dataset_.coco.images) {
      const auto id = NumericId(image.id);
      Image(image, id ? *id : next_id++);
    }
    out_ << "</annotations>\n";
    return out_.str();
  }

 private:
  // A project export when the dataset has splits (CVAT keeps them as the images' `subset`), else a task.
  void Meta() {
    const bool project = !dataset_.subset_of_image.empty();
    out_ << "  <meta>\n    <" << (project ? "project" : "task") << ">\n      <name>segtune</name>\n";
    if (!project) out_ << "      <size>" << dataset_.coco.images.size() << "</size>\n      <mode>annotation</mode>\n";
    out_ << "      <labels>\n";
    std::map<int64_t, std::set<std::string>> attributes;
    for (const auto& a : dataset_.coco.annotations) {
      if (a.score) attributes[a.category_id].insert("score");
      const nlohmann::json values = AttributesOf(a);
      for (const auto& [name, value] : values.items()) attributes[a.category_id].insert(name);
    }
    for (const auto& c : dataset_.coco.categories) {
      out_ << "        <label>\n          <name>" << XmlEscape(c.name) << "</name>\n          <type>any</type>\n"
           << "          <attributes>\n";
      for (const auto& name : attributes[c.id]) {
        out_ << "            <attribute>\n              <name>" << XmlEscape(name) << "</name>\n"
             << "              <mutable>False</mutable>\n              <input_type>text</input_type>\n"
             << "              <default_value></default_value>\n              <values></values>\n"
             << "            </attribute>\n";
      }
      out_ << "          </attributes>\n        </label>\n";
    }
    out_ << "      </labels>\n";
    if (project) Subsets();
    out_ << "    </" << (project ? "project" : "task") << ">\n  </meta>\n";
  }

  // A project export's subsets as CVAT writes them: a task per subset (Datumaro reads the subsets
  // from their <subset> tags and refuses a project without any) and <subsets>, the names one per
  // line (CVAT's own project import reads that).
  void Subsets() {
    std::vector<std::string> names;
    std::map<std::string, size_t> images;
    for (const auto& image : dataset_.coco.images) {
      const auto it = dataset_.subset_of_image.find(image.id.text);
      const std::string name = it == dataset_.subset_of_image.end() ? "default" : it->second;
      if (images[name]++ == 0) names.push_back(name);
    }
    out_ << "      <tasks>\n";
    for (size_t i = 0; i < names.size(); ++i) {
      out_ << "        <task>\n          <id>" << i + 1 << "</id>\n          <name>segtune " << XmlEscape(names[i])
           << "</name>\n          <size>" << images[names[i]] << "</size>\n          <mode>annotation</mode>\n"
           << "          <subset>" << XmlEscape(names[i]) << "</subset>\n        </task>\n";
    }
    out_ << "      </tasks>\n      <subsets>";
    for (size_t i = 0; i < names.size(); ++i) out_ << (i ? "\n" : "") << XmlEscape(names[i]);
    out_ << "</subsets>\n";
  }

  void Image(const CocoImage& image, int64_t id) {
    out_ << "  <image id=\"" << id << "\" name=\"" << XmlEscape(image.file_name) << "\"";
    const auto subset = dataset_.subset_of_image.find(image.id.text);
    if (subset != dataset_.subset_of_image.end()) out_ << " subset=\"" << XmlEscape(subset->second) << "\"";
    out_ << " width=\"" << image.width << "\" height=\"" << image.height << "\">\n";
    const auto it = annotations_of_image_.find(image.id.text);
    if (it != annotations_of_image_.end()) {
      for (const CocoAnnotation* a : it->second) Shape(*a, image);
    }
    out_ << "  </image>\n";
  }

  void Shape(const CocoAnnotation& a, const CocoImage& image) {
    const std::string element = "image '" + image.file_name + "': annotation " + std::to_string(a.id);
    const auto name = name_of_category_.find(a.category_id);
    if (name == name_of_category_.end()) {
      report_->Warn(output_, element, "category " + std::to_string(a.category_id) + " is not in the categories; skipped");
      return;
    }
    if (a.iscrowd) report_->Warn(output_, element, "iscrowd has no CVAT counterpart; written as an ordinary shape");
    for (const auto& [field, value] : a.extra.items()) {
      if (!value.is_primitive() && field != "attributes") report_->Warn(output_, element, "field '" + field + "' (not a single value) dropped");
    }
    const std::string common = " label=\"" + XmlEscape(name->second) + "\"" + CommonAttributes(a);
    if (a.segmentation.rle) {
      Mask(a, image, common, element);
    } else if (!a.segmentation.polygons.empty()) {
      if (a.segmentation.polygons.size() > 1) {
        report_->Warn(output_, element, std::to_string(a.segmentation.polygons.size()) +
                                            " polygon parts written as as many <polygon> shapes (CVAT has no multi-part polygon)");
      }
      for (const auto& part : a.segmentation.polygons) {
        if (part.size() < 6) {  // CVAT and Datumaro refuse them (and so does segtune's reader).
          report_->Warn(output_, element, "polygon part of " + std::to_string(part.size() / 2) + " point(s) skipped (CVAT needs 3)");
          continue;
        }
        std::string points;
        for (size_t i = 0; i + 1 < part.size(); i += 2) points += (i ? ";" : "") + Fixed2(part[i]) + "," + Fixed2(part[i + 1]);
        Open("polygon", common + " points=\"" + points + "\"");
        Attributes(a);
      }
    } else {
      const nlohmann::json* rotation = ShapeField(a.extra, "rotation");
      const std::string rotated = rotation != nullptr && rotation->is_number() && rotation->get<double>() != 0
                                      ? " rotation=\"" + Fixed2(rotation->get<double>()) + "\""
                                      : "";
      Open("box", common + " xtl=\"" + Fixed2(a.bbox[0]) + "\" ytl=\"" + Fixed2(a.bbox[1]) + "\" xbr=\"" +
                      Fixed2(a.bbox[0] + a.bbox[2]) + "\" ybr=\"" + Fixed2(a.bbox[1] + a.bbox[3]) + "\"" + rotated);
      Attributes(a);
    }
  }

  void Mask(const CocoAnnotation& a, const CocoImage& image, const std::string& common, const std::string& element) {
    const Rle& rle = *a.segmentation.rle;
    if (image.width > 0 && image.height > 0 && (rle.w != uint32_t(image.width) || rle.h != uint32_t(image.height))) {
      // CVAT places the mask's box inside the image: a mask of another size would land elsewhere.
      report_->Warn(output_, element, "mask of " + std::to_string(rle.w) + "x" + std::to_string(rle.h) + " on an image of " +
                                          std::to_string(image.width) + "x" + std::to_string(image.height) + " skipped");
      return;
    }
    const CvatMaskRle mask = RleToCvatMask(rle);
    if (mask.width == 0) {
      report_->Warn(output_, element, "empty mask skipped");
      return;
    }
    Open("mask", common + " rle=\"" + FormatCvatRleCounts(mask.counts) + "\" left=\"" + std::to_string(mask.left) +
                     "\" top=\"" + std::to_string(mask.top) + "\" width=\"" + std::to_string(mask.width) +
                     "\" height=\"" + std::to_string(mask.height) + "\"");
    Attributes(a);
  }

  // source, occluded, z_order (and group_id) as CVAT writes them; predictions are "auto".
  std::string CommonAttributes(const CocoAnnotation& a) {
    std::string source = a.score ? "auto" : "manual";
    if (const auto it = a.extra.find("source"); it != a.extra.end() && it->is_string()) source = it->get<std::string>();
    std::string s = " source=\"" + XmlEscape(source) + "\" occluded=\"" + std::to_string(ExtraInt(a.extra, "occluded", 0)) +
                    "\" z_order=\"" + std::to_string(ExtraInt(a.extra, "z_order", 0)) + "\"";
    if (const int64_t group = ExtraInt(a.extra, "group_id", 0)) s += " group_id=\"" + std::to_string(group) + "\"";
    return s;
  }

  // Starts a shape element; Attributes() writes its children and closes it.
  void Open(const char* shape, const std::string& attributes) {
    out_ << "    <" << shape << attributes << ">\n";
    pending_close_ = shape;
  }

  void Attributes(const CocoAnnotation& a) {
    const nlohmann::json values = AttributesOf(a);
    for (const auto& [name, value] : values.items()) {
      out_ << "      <attribute name=\"" << XmlEscape(name) << "\">" << XmlEscape(AttributeText(value)) << "</attribute>\n";
    }
    if (a.score) {
      char buffer[64];
      std::snprintf(buffer, sizeof(buffer), "%.6g", *a.score);
      out_ << "      <attribute name=\"score\">" << buffer << "</attribute>\n";
    }
    out_ << "    </" << pending_close_ << ">\n";
  }

  const LabeledDataset& dataset_;
  fs::path output_;
  ConversionReport* report_;
  std::map<int64_t, std::string> name_of_category_;
  std::map<std::string, std::vector<const CocoAnnotation*>> annotations_of_image_;
  std::ostringstream out_;
  const char* pending_close_ = "";
};

void WriteCvat(const LabeledDataset& dataset, const fs::path& output, const WriteOptions& options,
               ConversionReport* report) {
  CheckOutputFile(output, options.overwrite, {"convert", "-o", "CVAT XML file", {}},
                  [](const fs::path& p) { return FileStartsWith(p, '<') && DetectCvat(p) > 0; });
  WriteFileAtomic(output, CvatWriter(dataset, output, report).Xml());
  report->written.push_back(output);
}

}  // namespace

AnnotationFormat CvatAnnotationFormat() {
  return {"cvat", DetectCvat, ReadCvat, WriteCvat};
}

}  // namespace segtune
