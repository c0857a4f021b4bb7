#include "segtune/data/convert/voc_writer.h"

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/output_guard.h"
#include "segtune/core/safe_name.h"
#include "segtune/data/convert/output_images.h"
#include "segtune/data/convert/voc_palette.h"
#include "segtune/formats/xml_document.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMarker = "segtune-voc.txt";
constexpr int kMaxInstances = 254;  // 255 is void.

// Class index of each category: VOC's own indexes when every name is one of its 20 classes (so other
// VOC tools colour and name them right); else the category ids when they all fit in 1..254 (a VOC
// folder read with extra classes comes back unchanged); else 1..N in category order.
std::map<int64_t, int> ClassIndexes(const CocoDataset& coco) {
  if (coco.categories.size() > size_t(kMaxInstances)) {
    throw UsageError("convert: Pascal VOC masks hold at most 254 classes; the dataset has " +
                     std::to_string(coco.categories.size()));
  }
  std::map<std::string, int> voc;
  for (size_t i = 1; i < VocClassNames().size(); ++i) voc[VocClassNames()[i]] = int(i);
  bool all_voc = true, ids_fit = true;
  std::set<std::string> names;
  for (const auto& c : coco.categories) {
    all_voc = all_voc && voc.count(c.name) && names.insert(c.name).second;
    ids_fit = ids_fit && c.id >= 1 && c.id <= kMaxInstances;
  }
  std::map<int64_t, int> out;
  int next = 1;
  for (const auto& c : coco.categories) out[c.id] = all_voc ? voc[c.name] : ids_fit ? int(c.id) : next++;
  return out;
}

std::string Flag(const nlohmann::json& extra, const char* name, bool fallback) {
  const auto it = extra.find(name);
  if (it != extra.end() && it->is_number()) return it->get<double>() != 0 ? "1" : "0";
  return fallback ? "1" : "0";
}

class VocWriter {
 public:
  VocWriter(const LabeledDataset& dataset, fs::path root, fs::path output, ConversionReport* report)
      : dataset_(dataset), root_(std::move(root)), output_(std::move(output)), report_(report),
        class_of_(ClassIndexes(dataset.coco)), namer_("convert") {
    for (const auto& c : dataset.coco.categories) name_of_[c.id] = c.name;
    for (const auto& a : dataset.coco.annotations) annotations_of_[a.image_id.text].push_back(&a);
  }

  void Write() {
    for (const char* dir : {"Annotations", "JPEGImages", "ImageSets/Main"}) fs::create_directories(root_ / dir);
    for (const auto& image : dataset_.coco.images) WriteImage(image);
    WriteSplits();
    WriteLabelmap();
    WriteFileAtomic(root_ / kMarker, "Pascal VOC folder written by segtune convert\n");
    if (dropped_ > 0) {
      report_->Warn(output_, dropped_example_, "attributes or scores of " + std::to_string(dropped_) +
                                                   " annotation(s) dropped (VOC objects have none); this is the first");
    }
  }

 private:
  void WriteImage(const CocoImage& image) {
    std::string name = namer_.Name(image.file_name, "image '" + image.file_name + "'", "image.jpg");
    // Annotations/ and the masks are named by stem: "a.jpg" and "a.png" need different stems.
    for (int n = 2; stems_.count(fs::path(name).stem().string()); ++n) {
      const fs::path p(name);
      name = namer_.Name(p.stem().string() + "_" + std::to_string(n) + p.extension().string(), "image '" + image.file_name + "'");
    }
    stems_.insert(fs::path(name).stem().string());
    if (name != image.file_name) {
      report_->Warn(output_, "image '" + image.file_name + "'", "written as JPEGImages/" + name + " (unsafe or taken name)");
    }
    const std::string id = fs::path(name).stem().string();
    id_of_[image.id.text] = id;
    LinkImage(image, name);
    const auto it = annotations_of_.find(image.id.text);
    static const std::vector<const CocoAnnotation*> kNone;
    const auto& annotations = it == annotations_of_.end() ? kNone : it->second;
    std::vector<const CocoAnnotation*> objects;
    for (const CocoAnnotation* a : annotations) {
      if (name_of_.count(a->category_id)) {
        objects.push_back(a);
      } else {
        report_->Warn(output_, "image '" + image.file_name + "'", "annotation " + std::to_string(a->id) + ": unknown category; skipped");
      }
    }
    const bool segmented = WriteMasks(image, id, objects);
    if (segmented) segmented_.insert(image.id.text);
    WriteFileAtomic(root_ / "Annotations" / (id + ".xml"), Xml(image, name, objects, segmented));
  }

  // Hard link when source and output share a file system (no bytes copied), else a copy.
  void LinkImage(const CocoImage& image, const std::string& name) {
    const fs::path source = ImageFilePath(dataset_, image.file_name);
    std::error_code ec;
    if (!fs::is_regular_file(source, ec)) {
      report_->Warn(source, "image '" + image.file_name + "'", "not found; JPEGImages/" + name + " not written");
      return;
    }
    LinkOrCopyFile(source, root_ / "JPEGImages" / name);
  }

  std::string Xml(const CocoImage& image, const std::string& name, const std::vector<const CocoAnnotation*>& objects,
                  bool segmented) {
    std::ostringstream out;
    out << "<annotation>\n  <folder>JPEGImages</folder>\n  <filename>" << XmlEscape(name) << "</filename>\n"
        << "  <size>\n    <width>" << image.width << "</width>\n    <height>" << image.height
        << "</height>\n    <depth>3</depth>\n  </size>\n  <segmented>" << (segmented ? 1 : 0) << "</segmented>\n";
    for (const CocoAnnotation* a : objects) {
      Object(*a, &out);
      NoteDropped(*a, image);
    }
    out << "</annotation>\n";
    return out.str();
  }

  // VOC objects have no attributes or scores: counted here, reported once by Write().
  void NoteDropped(const CocoAnnotation& a, const CocoImage& image) {
    const auto attributes = a.extra.find("attributes");
    if (!a.score && (attributes == a.extra.end() || attributes->empty())) return;
    if (dropped_++ == 0) dropped_example_ = "image '" + image.file_name + "': annotation " + std::to_string(a.id);
  }

  // Boxes go out as VOC's 1-based inclusive pixel indexes: x=0, width=W gives xmin=1, xmax=W.
  void Object(const CocoAnnotation& a, std::ostringstream* out) {
    const long xmin = std::lround(a.bbox[0]) + 1, ymin = std::lround(a.bbox[1]) + 1;
    const long xmax = std::max(xmin, std::lround(a.bbox[0] + a.bbox[2]));
    const long ymax = std::max(ymin, std::lround(a.bbox[1] + a.bbox[3]));
    const auto pose = a.extra.find("pose");
    *out << "  <object>\n    <name>" << XmlEscape(name_of_.at(a.category_id)) << "</name>\n    <pose>"
         << XmlEscape(pose != a.extra.end() && pose->is_string() ? pose->get<std::string>() : "Unspecified") << "</pose>\n"
         << "    <truncated>" << Flag(a.extra, "truncated", false) << "</truncated>\n"
         << "    <difficult>" << Flag(a.extra, "difficult", a.iscrowd) << "</difficult>\n";
    if (a.extra.count("occluded")) *out << "    <occluded>" << Flag(a.extra, "occluded", false) << "</occluded>\n";
    *out << "    <bndbox>\n      <xmin>" << xmin << "</xmin>\n      <ymin>" << ymin << "</ymin>\n      <xmax>" << xmax
         << "</xmax>\n      <ymax>" << ymax << "</ymax>\n    </bndbox>\n  </object>\n";
  }

  // Instance i of SegmentationObject is the i-th <object>; later objects are painted over earlier ones.
  bool WriteMasks(const CocoImage& image, const std::string& id, const std::vector<const CocoAnnotation*>& objects) {
    bool any = false;
    for (const CocoAnnotation* a : objects) any = any || !a->segmentation.empty();
    if (!any || image.width <= 0 || image.height <= 0) return false;
    const size_t n = size_t(image.width) * size_t(image.height);
    std::vector<uint8_t> instances(n, 0), classes(n, 0), pixels(n);
    PaintVoid(image, &instances, &classes);
    for (size_t i = 0; i < objects.size(); ++i) {
      const CocoAnnotation& a = *objects[i];
      if (a.segmentation.empty()) continue;
      if (i >= size_t(kMaxInstances)) {
        report_->Warn(output_, "image '" + image.file_name + "'", "more than 254 objects: masks past the 254th not written");
        break;
      }
      const Rle rle = a.segmentation.rle ? *a.segmentation.rle
                                          : RleFromPolygons(a.segmentation.polygons, uint32_t(image.height), uint32_t(image.width));
      if (rle.h != uint32_t(image.height) || rle.w != uint32_t(image.width)) {
        report_->Warn(output_, "image '" + image.file_name + "'", "annotation " + std::to_string(a.id) + ": mask size differs from the image; not written");
        continue;
      }
      RleDecode(rle, pixels.data());
      for (size_t p = 0; p < n; ++p) {
        if (pixels[p]) instances[p] = uint8_t(i + 1), classes[p] = uint8_t(class_of_.at(a.category_id));
      }
    }
    fs::create_directories(root_ / "SegmentationObject");
    fs::create_directories(root_ / "SegmentationClass");
    WriteFileAtomic(root_ / "SegmentationObject" / (id + ".png"), EncodePalettePng(instances.data(), image.height, image.width, VocColormap()));
    WriteFileAtomic(root_ / "SegmentationClass" / (id + ".png"), EncodePalettePng(classes.data(), image.height, image.width, VocColormap()));
    return true;
  }

  // The void border the VOC reader kept (image extra "voc_void"), under the instances.
  void PaintVoid(const CocoImage& image, std::vector<uint8_t>* instances, std::vector<uint8_t>* classes) {
    const auto it = image.extra.find("voc_void");
    if (it == image.extra.end() || !it->is_object() || !it->contains("counts") || !(*it)["counts"].is_string()) return;
    try {
      const Rle v = RleFromString((*it)["counts"].get<std::string>(), uint32_t(image.height), uint32_t(image.width));
      std::vector<uint8_t> pixels(instances->size());
      RleDecode(v, pixels.data());
      for (size_t p = 0; p < pixels.size(); ++p) {
        if (pixels[p]) (*instances)[p] = (*classes)[p] = kVocVoid;
      }
    } catch (const FormatError& e) {
      report_->Warn(output_, "image '" + image.file_name + "'", std::string("voc_void ignored: ") + e.what());
    }
  }

  // ImageSets/Main/<subset>.txt; trainval.txt too when train and val exist (VOC's own union).
  void WriteSplits() {
    std::map<std::string, std::string> lists, segmentation;
    for (const auto& image : dataset_.coco.images) {
      const auto it = dataset_.subset_of_image.find(image.id.text);
      if (it == dataset_.subset_of_image.end()) continue;
      const std::string file = SanitizeFileName(it->second, "subset") + ".txt";
      std::vector<std::string> names = {file};
      if ((it->second == "train" || it->second == "val") && HasBothTrainAndVal()) names.push_back("trainval.txt");
      for (const auto& f : names) {
        lists[f] += id_of_[image.id.text] + "\n";
        if (segmented_.count(image.id.text)) segmentation[f] += id_of_[image.id.text] + "\n";
      }
    }
    for (const auto& [file, text] : lists) WriteFileAtomic(root_ / "ImageSets" / "Main" / file, text);
    for (const auto& [file, text] : segmentation) WriteFileAtomic(root_ / "ImageSets" / "Segmentation" / file, text);
  }

  bool HasBothTrainAndVal() const {
    bool train = false, val = false, trainval = false;
    for (const auto& [id, subset] : dataset_.subset_of_image) {
      train |= subset == "train", val |= subset == "val", trainval |= subset == "trainval";
    }
    return train && val && !trainval;
  }

  // "name:r,g,b::" per class index, as CVAT and Datumaro write it; the reader takes names from it.
  void WriteLabelmap() {
    std::map<int, std::string> names = {{0, "background"}};
    for (const auto& [category, index] : class_of_) names[index] = name_of_.at(category);
    std::string text = "# label:color_rgb:parts:actions\n";
    for (int i = 0; i <= names.rbegin()->first; ++i) {
      const PaletteColor c = VocColormap()[size_t(i)];
      const auto it = names.find(i);
      const std::string gap = size_t(i) < VocClassNames().size() ? VocClassNames()[size_t(i)] : "class_" + std::to_string(i);
      text += (it != names.end() ? it->second : gap) + ":" + std::to_string(c.r) + "," +
              std::to_string(c.g) + "," + std::to_string(c.b) + "::\n";
    }
    WriteFileAtomic(root_ / "labelmap.txt", text);
  }

  const LabeledDataset& dataset_;
  fs::path root_;
  fs::path output_;
  ConversionReport* report_;
  std::map<int64_t, int> class_of_;
  SafeNamer namer_;
  std::map<int64_t, std::string> name_of_;
  std::map<std::string, std::vector<const CocoAnnotation*>> annotations_of_;
  std::map<std::string, std::string> id_of_;  // ImageId text -> VOC id (file stem).
  std::set<std::string> segmented_;
  std::set<std::string> stems_;
  int dropped_ = 0;
  std::string dropped_example_;
};

}  // namespace

void WriteVoc(const LabeledDataset& dataset, const fs::path& output, const WriteOptions& options,
              ConversionReport* report) {
  CheckOutputDirectory(output, options.overwrite, {"convert", "-o", "Pascal VOC folder written by segtune", {kMarker}});
  AtomicDirectory directory(output);
  VocWriter(dataset, directory.temp_path(), output, report).Write();
  directory.Commit();
  report->written.push_back(output);
}

}  // namespace segtune
