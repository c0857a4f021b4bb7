// Pascal VOC folders (VOCdevkit/VOC20xx layout; docs/formats.md §15): Annotations/<id>.xml boxes,
// SegmentationObject/<id>.png and SegmentationClass/<id>.png palette masks, ImageSets/{Main,
// Segmentation}/{train,val,test,trainval}.txt splits, images in JPEGImages/.
//
// Read: one image per id found in Annotations, the two mask folders or the split lists (ids sorted;
// image ids 1..N in that order). The i-th <object> of an XML file is instance i of its
// SegmentationObject PNG (VOC's convention), so an object with pixels gets its box from the XML and
// its mask from the PNG. Instances of an image without XML take their class from SegmentationClass.
// Category ids are the class indexes of the SegmentationClass PNGs: labelmap.txt's order when the
// folder has one (CVAT and Datumaro write it), else VOC's 20-class table; names the table lacks get
// the next indexes in sorted-name order. Void pixels (255) belong to no instance; they are kept as
// the image's `voc_void` RLE so that writing VOC again restores them.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/convert/formats_list.h"
#include "segtune/data/convert/voc_palette.h"
#include "segtune/data/convert/voc_writer.h"
#include "segtune/formats/xml_document.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

struct VocObject {
  std::string name;
  std::array<double, 4> corners{};  // xmin, ymin, xmax, ymax as written.
  std::array<double, 4> bbox{};
  nlohmann::json extra = nlohmann::json::object();
  bool difficult = false;
};

struct VocInstance {
  int index = 0;         // Value in SegmentationObject (or the class index for class-only images).
  int class_index = -1;  // Majority class under it in SegmentationClass; -1 if unknown.
  Rle rle;
};

struct VocItem {
  std::string id;
  CocoImage image;
  std::vector<VocObject> objects;
  std::vector<VocInstance> instances;
  std::optional<Rle> void_rle;
};

double ParseCoordinate(const XmlElement& box, const char* name, const fs::path& file) {
  const std::string text = box.ChildText(name);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
    throw FormatError(file, "line " + std::to_string(box.line) + ": <bndbox>",
                      std::string("<") + name + ">: expected a number, got '" + text + "'");
  }
  return v;
}

int ParseSize(const XmlElement& size, const char* name, const fs::path& file) {
  const std::string text = size.ChildText(name);
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || v < 0 || v > (1 << 20)) {
    throw FormatError(file, "line " + std::to_string(size.line) + ": <size>",
                      std::string("<") + name + ">: expected a positive integer, got '" + text + "'");
  }
  return int(v);  // 0: unknown (labelImg writes 0 when it could not read the image); taken from the file.
}

// VOC boxes are 1-based inclusive pixel indexes: xmin=1, xmax=W covers the whole width. In COCO's
// continuous coordinates that is x = xmin - 1, width = xmax - xmin + 1.
VocObject ReadObject(const XmlElement& o, const fs::path& file) {
  VocObject object;
  const std::string where = "line " + std::to_string(o.line) + ": <object>";
  object.name = o.ChildText("name");
  if (object.name.empty()) throw FormatError(file, where, "no <name>");
  const XmlElement* box = o.Child("bndbox");
  if (box == nullptr) throw FormatError(file, where, "no <bndbox>");
  const double xmin = ParseCoordinate(*box, "xmin", file), ymin = ParseCoordinate(*box, "ymin", file);
  const double xmax = ParseCoordinate(*box, "xmax", file), ymax = ParseCoordinate(*box, "ymax", file);
  if (xmax < xmin || ymax < ymin) {
    throw FormatError(file, "line " + std::to_string(box->line) + ": <bndbox>", "xmax/ymax below xmin/ymin");
  }
  object.corners = {xmin, ymin, xmax, ymax};
  object.bbox = {xmin - 1, ymin - 1, xmax - xmin + 1, ymax - ymin + 1};
  for (const char* flag : {"difficult", "truncated", "occluded"}) {
    const std::string v = o.ChildText(flag);
    if (!v.empty()) object.extra[flag] = (v == "1" || v == "true") ? 1 : 0;
  }
  object.difficult = object.extra.value("difficult", 0) == 1;
  if (const std::string pose = o.ChildText("pose"); !pose.empty()) object.extra["pose"] = pose;
  return object;
}

class VocReader {
 public:
  VocReader(fs::path root, ConversionReport* report) : root_(std::move(root)), report_(report) {}

  LabeledDataset Read() {
    ReadLabelmap();
    const std::set<std::string> ids = CollectIds();
    for (const std::string& id : ids) items_.push_back(ReadItem(id, int(items_.size()) + 1));
    LearnClassNames();
    AssignIndexes();
    for (VocItem& item : items_) Build(&item);
    ReadSplits(ids);
    dataset_.images_dir = root_ / "JPEGImages";
    return std::move(dataset_);
  }

 private:
  // labelmap.txt ("name:r,g,b:parts:actions" per line, background first): names and colours by index.
  void ReadLabelmap() {
    class_colors_ = VocColormap();
    const fs::path file = root_ / "labelmap.txt";
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      for (size_t i = 0; i < VocClassNames().size(); ++i) table_[int(i)] = VocClassNames()[i];
      return;
    }
    std::ifstream in(file);
    std::string line;
    std::vector<PaletteColor> colors;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.empty() || line[0] == '#') continue;
      const size_t colon = line.find(':');
      int r = 0, g = 0, b = 0;
      if (colon == std::string::npos || std::sscanf(line.c_str() + colon + 1, "%d,%d,%d", &r, &g, &b) != 3 ||
          r < 0 || r > 255 || g < 0 || g > 255 || b < 0 || b > 255 || colors.size() >= 255) {
        throw FormatError(file, "line " + std::to_string(n), "expected 'name:r,g,b::' (at most 255 labels), got '" + line + "'");
      }
      table_[int(colors.size())] = line.substr(0, colon);
      colors.push_back({uint8_t(r), uint8_t(g), uint8_t(b)});
    }
    labelmap_ = true;
    // Indexes past the labels keep VOC's colours, so 255 is still void; on a colour clash the lower
    // index (a label) wins.
    for (size_t i = colors.size(); i < 256; ++i) colors.push_back(VocColormap()[i]);
    class_colors_ = colors;
  }

  std::set<std::string> CollectIds() {
    std::set<std::string> ids;
    std::error_code ec;
    for (const auto& [dir, ext] : {std::pair{"Annotations", ".xml"}, {"SegmentationObject", ".png"}, {"SegmentationClass", ".png"}}) {
      if (!fs::is_directory(root_ / dir, ec)) continue;
      for (const auto& entry : fs::directory_iterator(root_ / dir)) {
        if (entry.path().extension() == ext) ids.insert(entry.path().stem().string());
      }
    }
    for (const auto& [id, subset] : ReadSplitLists()) {
      if (!ids.count(id) && !FindImage(id).empty()) ids.insert(id);
    }
    return ids;
  }

  std::string FindImage(const std::string& id) const {
    std::error_code ec;
    for (const char* ext : {".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"}) {
      if (fs::is_regular_file(root_ / "JPEGImages" / (id + ext), ec)) return id + ext;
    }
    return "";
  }

  VocItem ReadItem(const std::string& id, int number) {
    VocItem item;
    item.id = id;
    item.image.id = {std::to_string(number), true};
    std::error_code ec;
    const fs::path xml = root_ / "Annotations" / (id + ".xml");
    if (fs::is_regular_file(xml, ec)) ReadXml(xml, &item);
    // labelImg can write <filename> without its extension: the image is then found as an id's is.
    if (!item.image.file_name.empty() && fs::path(item.image.file_name).extension().empty() &&
        !fs::is_regular_file(root_ / "JPEGImages" / item.image.file_name, ec)) {
      const std::string found = FindImage(item.image.file_name);
      if (!found.empty()) item.image.file_name = found;
    }
    if (item.image.file_name.empty()) {
      const std::string found = FindImage(id);
      item.image.file_name = found.empty() ? id + ".jpg" : found;
    }
    ReadMasks(&item);
    if (item.image.width == 0) SizeFromImageFile(&item);
    return item;
  }

  void ReadXml(const fs::path& file, VocItem* item) {
    const auto root = LoadXml(file);
    if (root->name != "annotation") {
      throw FormatError(file, "line " + std::to_string(root->line), "expected the root element <annotation>, got <" + std::string(root->name) + ">");
    }
    item->image.file_name = root->ChildText("filename");
    if (const XmlElement* size = root->Child("size")) {
      item->image.width = ParseSize(*size, "width", file);
      item->image.height = ParseSize(*size, "height", file);
      if (item->image.width == 0 || item->image.height == 0) item->image.width = item->image.height = 0;  // Unknown.
    }
    for (const XmlElement* o : root->Children("object")) item->objects.push_back(ReadObject(*o, file));
    // A corner below 1 cannot be a 1-based pixel index: the file was written in continuous 0-based
    // coordinates, as CVAT's and Datumaro's VOC export writes them (xmin = x, xmax = x + width).
    const bool zero_based = std::any_of(item->objects.begin(), item->objects.end(),
                                        [](const VocObject& o) { return o.corners[0] < 1 || o.corners[1] < 1; });
    if (!zero_based) return;
    for (VocObject& o : item->objects) {
      const auto [xmin, ymin, xmax, ymax] = o.corners;
      o.bbox = {xmin, ymin, xmax - xmin, ymax - ymin};
    }
    if (zero_based_files_++ == 0) {
      report_->Warn(file, "", "a box corner below 1: this file's boxes are read as 0-based continuous coordinates "
                              "(as CVAT and Datumaro write VOC), not VOC's 1-based pixel indexes");
    }
  }

  void ReadMasks(VocItem* item) {
    std::error_code ec;
    const fs::path object_png = root_ / "SegmentationObject" / (item->id + ".png");
    const fs::path class_png = root_ / "SegmentationClass" / (item->id + ".png");
    const bool has_object = fs::is_regular_file(object_png, ec), has_class = fs::is_regular_file(class_png, ec);
    if (!has_object && !has_class) return;
    int h = 0, w = 0, ch = 0, cw = 0;
    std::vector<uint8_t> objects, classes;
    if (has_object) objects = ReadIndexedMask(object_png, VocColormap(), &h, &w);
    if (has_class) classes = ReadIndexedMask(class_png, class_colors_, &ch, &cw);
    if (has_object && has_class && (h != ch || w != cw)) {
      throw FormatError(class_png, "", std::to_string(cw) + "x" + std::to_string(ch) + " differs from " +
                                           object_png.string() + "'s " + std::to_string(w) + "x" + std::to_string(h));
    }
    if (!has_object) h = ch, w = cw;
    CheckSize(item, h, w, has_object ? object_png : class_png);
    Split(has_object ? objects : classes, has_class ? &classes : nullptr, h, w, !has_object, item);
  }

  void CheckSize(VocItem* item, int h, int w, const fs::path& png) {
    if (item->image.width == 0) {
      item->image.width = w, item->image.height = h;
    } else if (item->image.width != w || item->image.height != h) {
      throw FormatError(png, "", "mask is " + std::to_string(w) + "x" + std::to_string(h) + " but the XML's <size> says " +
                                     std::to_string(item->image.width) + "x" + std::to_string(item->image.height));
    }
  }

  // One RLE per index value (1..254) of `labels`; void (255) pixels become the image's void mask.
  static void Split(const std::vector<uint8_t>& labels, const std::vector<uint8_t>* classes, int h, int w,
                    bool labels_are_classes, VocItem* item) {
    std::map<int, std::vector<uint8_t>> masks;
    std::map<int, std::map<int, size_t>> class_votes;
    std::vector<uint8_t> void_mask(labels.size(), 0);
    bool any_void = false;
    for (size_t p = 0; p < labels.size(); ++p) {
      const int v = labels[p];
      if (v == kVocVoid) {
        void_mask[p] = 1, any_void = true;
      } else if (v != 0) {
        auto& m = masks[v];
        if (m.empty()) m.assign(labels.size(), 0);
        m[p] = 1;
        if (classes && (*classes)[p] != 0 && (*classes)[p] != kVocVoid) ++class_votes[v][(*classes)[p]];
      }
    }
    for (auto& [v, m] : masks) {
      VocInstance instance;
      instance.index = v;
      instance.rle = RleEncode(m.data(), uint32_t(h), uint32_t(w));
      if (labels_are_classes) instance.class_index = v;
      const auto& votes = class_votes[v];
      if (!labels_are_classes && !votes.empty()) {
        instance.class_index = std::max_element(votes.begin(), votes.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
      }
      item->instances.push_back(std::move(instance));
    }
    if (any_void) item->void_rle = RleEncode(void_mask.data(), uint32_t(h), uint32_t(w));
  }

  void SizeFromImageFile(VocItem* item) {
    const auto bytes = ReadSmallFile(root_ / "JPEGImages" / item->image.file_name, uintmax_t(1) << 31);
    const auto size = bytes ? ReadImageSize(*bytes) : std::nullopt;
    if (size) item->image.width = size->width, item->image.height = size->height;
  }

  // Objects with a mask tell which name a class index stands for (a dataset that reuses VOC's indexes
  // for its own classes). labelmap.txt, when present, is the authority instead.
  void LearnClassNames() {
    if (labelmap_) return;
    std::map<int, std::string> learned;
    for (const VocItem& item : items_) {
      for (const VocInstance& instance : item.instances) {
        if (instance.index > int(item.objects.size()) || instance.class_index < 0) continue;
        const std::string& name = item.objects[size_t(instance.index - 1)].name;
        const auto [it, inserted] = learned.emplace(instance.class_index, name);
        if (!inserted && it->second != name) {
          report_->Warn(root_ / "SegmentationClass" / (item.id + ".png"), "class " + std::to_string(instance.class_index),
                        "stands for '" + name + "' here but for '" + it->second + "' in an earlier image");
        }
      }
    }
    for (const auto& [index, name] : learned) table_[index] = name;
  }

  // Names the class table lacks get the next indexes, in sorted-name order.
  void AssignIndexes() {
    std::set<std::string> missing;
    for (const VocItem& item : items_) {
      for (const VocObject& o : item.objects) missing.insert(o.name);
    }
    for (const auto& [index, name] : table_) missing.erase(name);
    for (const std::string& name : missing) CategoryId(name);
  }

  int64_t CategoryId(const std::string& name) {
    for (const auto& [index, n] : table_) {
      if (n == name && index > 0) return index;
    }
    const int id = table_.empty() ? 1 : table_.rbegin()->first + 1;
    table_[id] = name;
    return id;
  }

  std::string NameOfClass(int index) const {
    const auto it = table_.find(index);
    return it != table_.end() ? it->second : "class_" + std::to_string(index);
  }

  void Build(VocItem* item) {
    const fs::path xml = root_ / "Annotations" / (item->id + ".xml");
    std::map<int, const VocInstance*> instance_of;
    for (const VocInstance& instance : item->instances) instance_of[instance.index] = &instance;
    for (size_t i = 0; i < item->objects.size(); ++i) {
      const VocObject& o = item->objects[i];
      CocoAnnotation a = NewAnnotation(*item, o.name);
      a.bbox = o.bbox;
      a.area = o.bbox[2] * o.bbox[3];
      a.iscrowd = o.difficult;
      a.extra = o.extra;
      const auto it = instance_of.find(int(i) + 1);
      if (it != instance_of.end()) {
        CheckClass(*item, o.name, *it->second);
        a.segmentation.rle = it->second->rle;
        a.area = double(RleArea(*a.segmentation.rle));
        instance_of.erase(it);
      }
      dataset_.coco.annotations.push_back(std::move(a));
    }
    for (const auto& [index, instance] : instance_of) AddMaskOnly(*item, *instance);
    if (item->void_rle) item->image.extra["voc_void"] = {{"size", {item->void_rle->h, item->void_rle->w}}, {"counts", RleToString(*item->void_rle)}};
    dataset_.coco.images.push_back(item->image);
  }

  void CheckClass(const VocItem& item, const std::string& name, const VocInstance& instance) {
    if (instance.class_index < 0 || NameOfClass(instance.class_index) == name) return;
    report_->Warn(root_ / "SegmentationClass" / (item.id + ".png"), "instance " + std::to_string(instance.index),
                  "class " + std::to_string(instance.class_index) + " ('" + NameOfClass(instance.class_index) +
                      "') but the XML's object says '" + name + "'; the XML's name is kept");
  }

  // An instance without an XML object: its class from SegmentationClass, its box from the mask.
  void AddMaskOnly(const VocItem& item, const VocInstance& instance) {
    if (instance.class_index < 0) {
      report_->Warn(root_ / "SegmentationObject" / (item.id + ".png"), "instance " + std::to_string(instance.index),
                    "no XML object and no SegmentationClass pixels tell its class; skipped");
      return;
    }
    CocoAnnotation a = NewAnnotation(item, NameOfClass(instance.class_index));
    a.segmentation.rle = instance.rle;
    a.bbox = RleToBbox(instance.rle);
    a.area = double(RleArea(instance.rle));
    dataset_.coco.annotations.push_back(std::move(a));
  }

  CocoAnnotation NewAnnotation(const VocItem& item, const std::string& name) {
    CocoAnnotation a;
    a.id = int64_t(dataset_.coco.annotations.size()) + 1;
    a.image_id = item.image.id;
    a.category_id = CategoryId(name);
    if (!category_added_.count(a.category_id)) {
      category_added_.insert(a.category_id);
      dataset_.coco.categories.push_back({a.category_id, name, "", nlohmann::json::object()});
      std::sort(dataset_.coco.categories.begin(), dataset_.coco.categories.end(),
                [](const CocoCategory& x, const CocoCategory& y) { return x.id < y.id; });
    }
    return a;
  }

  // The ids of each split list, Main first then Segmentation. trainval is the union of train and val,
  // so an id there counts as "trainval" only when neither train nor val lists it.
  std::vector<std::pair<std::string, std::string>> ReadSplitLists() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const char* folder : {"Main", "Segmentation"}) {
      for (const char* subset : {"train", "val", "test", "trainval"}) {
        std::ifstream in(root_ / "ImageSets" / folder / (std::string(subset) + ".txt"));
        std::string line;
        while (std::getline(in, line)) {
          const size_t begin = line.find_first_not_of(" \t\r");
          if (begin == std::string::npos) continue;
          out.emplace_back(line.substr(begin, line.find_first_of(" \t\r", begin) - begin), subset);
        }
      }
    }
    return out;
  }

  void ReadSplits(const std::set<std::string>& ids) {
    std::map<std::string, std::string> image_of_id;
    for (const VocItem& item : items_) image_of_id[item.id] = item.image.id.text;
    std::map<std::string, std::string> subset_of;
    for (const auto& [id, subset] : ReadSplitLists()) {
      auto [it, inserted] = subset_of.emplace(id, subset);
      if (inserted || it->second == subset || subset == "trainval") continue;
      if (it->second == "trainval") {
        it->second = subset;
      } else {
        report_->Warn(root_ / "ImageSets", "image '" + id + "'", "listed in both " + it->second + " and " + subset + "; kept in " + it->second);
      }
    }
    for (const auto& [id, subset] : subset_of) {
      if (ids.count(id)) dataset_.subset_of_image[image_of_id[id]] = subset;
    }
  }

  fs::path root_;
  ConversionReport* report_;
  int zero_based_files_ = 0;  // Annotation files whose boxes were read as 0-based (warned once).
  LabeledDataset dataset_;
  std::vector<VocItem> items_;
  std::vector<PaletteColor> class_colors_;
  std::map<int, std::string> table_;  // Class index -> name.
  bool labelmap_ = false;
  std::set<int64_t> category_added_;
};

// A folder with VOC's Annotations/ or Segmentation*/ subfolders (the VOC20xx folder itself).
int DetectVoc(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_directory(input, ec)) return 0;
  const bool labels = fs::is_directory(input / "Annotations", ec) || fs::is_directory(input / "SegmentationObject", ec) ||
                      fs::is_directory(input / "SegmentationClass", ec);
  if (!labels) return 0;
  return fs::is_directory(input / "JPEGImages", ec) || fs::is_directory(input / "ImageSets", ec) ? 20 : 12;
}

LabeledDataset ReadVoc(const fs::path& input, const ReadOptions& options, ConversionReport* report) {
  std::error_code ec;
  if (!fs::is_directory(input, ec)) {
    throw FormatError(input, "", "a Pascal VOC input is a folder holding Annotations/ and/or SegmentationObject/");
  }
  LabeledDataset dataset = VocReader(input, report).Read();
  if (!options.images_dir.empty()) dataset.images_dir = options.images_dir;
  return dataset;
}

}  // namespace

AnnotationFormat VocAnnotationFormat() {
  return {"voc", DetectVoc, ReadVoc, WriteVoc};
}

}  // namespace segtune
