// YOLO (Darknet / Ultralytics) datasets: data.yaml or obj.data + obj.names, images/ and labels/
// folders paired by Ultralytics' rule, one normalized box or polygon per label line.
// docs/formats.md §17.
//
// Category ids: YOLO class k becomes COCO category k + 1 (COCO and TF label maps keep id 0 for
// background); the writer numbers classes by the order of the dataset's categories.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/parallel_for.h"
#include "segtune/data/convert/display_frame.h"
#include "segtune/data/convert/file_head.h"
#include "segtune/data/convert/formats_list.h"
#include "segtune/data/convert/image_file_size.h"
#include "segtune/data/convert/mask_polygons.h"
#include "segtune/data/convert/output_images.h"
#include "segtune/data/convert/yolo_config.h"
#include "segtune/data/convert/yolo_labels.h"
#include "segtune/formats/image_codec.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

int DetectYolo(const fs::path& input) {
  try {
    const fs::path file = FindYoloConfigFile(input);
    if (file.empty()) return 0;
    const std::string ext = file.extension().string();
    if (ext == ".data" || ext == ".names") return 20;
    if (ext != ".yaml" && ext != ".yml") return 0;
    // A data.yaml names its classes; other YAML (a pipeline config, CI files) does not.
    const std::string head = FileHead(file);
    const bool names = head.find("names:") != std::string::npos || head.find("nc:") != std::string::npos;
    return names && head.find("train:") != std::string::npos ? 20 : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

double PolygonArea(const std::vector<double>& xy) {
  double twice = 0;
  const size_t n = xy.size() / 2;
  for (size_t i = 0; i < n; ++i) {
    const size_t j = (i + 1) % n;
    twice += xy[2 * i] * xy[2 * j + 1] - xy[2 * j] * xy[2 * i + 1];
  }
  return std::abs(twice) / 2;
}

// fraction * size. For a fraction of at most 6 decimals, as YOLO files write them, this is the double
// nearest the exact product of the decimal and the size (0.386458 * 96 = 37.099968, where the
// double product is 37.099968000000004), so COCO shows the coordinate as the labels meant it, and
// writes it ~5x faster (core/number_text.h). In [0, 1] distinct 6-decimal numbers are distinct
// doubles, and fraction * 1e6 * size (< 2^53) is exact: one rounding, in the division.
double PixelCoordinate(double fraction, int size) {
  const double scaled = std::nearbyint(fraction * 1e6);
  if (fraction < 0 || fraction > 1 || scaled / 1e6 != fraction) return fraction * size;
  return scaled * size / 1e6;
}

// A label line's normalized values moved from one frame to the other by `move` (DisplayedToStored or
// StoredToDisplayed): a box's centre moves and a quarter turn swaps its width and height; every point
// of a segment moves.
template <typename Move>
std::vector<double> InOtherFrame(int orientation, std::vector<double> values, bool segment, Move move) {
  if (orientation == 1) return values;
  for (size_t i = 0; i + 1 < values.size(); i += segment ? 2 : values.size()) {
    move(orientation, values[i], values[i + 1], &values[i], &values[i + 1]);
  }
  if (!segment && values.size() == 4 && SwapsAxes(orientation)) std::swap(values[2], values[3]);
  return values;
}

// One label line in pixels, without its ids (the caller numbers it). Ultralytics gives a JPEG's labels
// in its displayed frame (cv2.imread applies the EXIF orientation); COCO's are in the stored pixels'.
CocoAnnotation ToAnnotation(const YoloObject& o, int width, int height, int orientation) {
  if (orientation != 1) {  // Copied only then: most images are as stored.
    YoloObject stored = o;
    stored.values = InOtherFrame(orientation, std::move(stored.values), o.segment, DisplayedToStored);
    return ToAnnotation(stored, width, height, 1);
  }
  CocoAnnotation a;
  a.category_id = o.class_id + 1;
  const double w = width, h = height;
  if (!o.segment) {
    a.bbox = {(o.values[0] - o.values[2] / 2) * w, (o.values[1] - o.values[3] / 2) * h, o.values[2] * w, o.values[3] * h};
    a.area = a.bbox[2] * a.bbox[3];
    return a;
  }
  std::vector<double> xy(o.values.size());
  double x0 = w, y0 = h, x1 = 0, y1 = 0;
  for (size_t i = 0; i < xy.size(); i += 2) {
    xy[i] = PixelCoordinate(o.values[i], width);
    xy[i + 1] = PixelCoordinate(o.values[i + 1], height);
    x0 = std::min(x0, xy[i]), x1 = std::max(x1, xy[i]);
    y0 = std::min(y0, xy[i + 1]), y1 = std::max(y1, xy[i + 1]);
  }
  a.bbox = {x0, y0, x1 - x0, y1 - y0};
  a.area = PolygonArea(xy);
  a.segmentation.polygons.push_back(std::move(xy));
  return a;
}

// One image of a split as read from disk: what the slow part (thousands of small files) produces,
// in parallel, before the images are numbered and added in order.
struct ImageOnDisk {
  fs::path path;
  std::string split;
  bool exists = false;
  std::optional<ImageSize> size;  // Unset: the header could not be read.
  int orientation = 1;            // EXIF (formats/exif_orientation.h).
  // Its label file's objects in pixels, numbered and given their image id when the image is added
  // (converting them here keeps that sequential pass short). Empty when there is no label file.
  std::vector<CocoAnnotation> annotations;
  fs::path label;      // The label file found; empty when there is none.
  int duplicates = 0;  // Repeated lines dropped from it.
};

void ReadFromDisk(const YoloConfig& config, ImageOnDisk* image) {
  if (const std::optional<ImageFileHeader> header = ReadImageFileHeader(image->path)) {
    image->size = header->size;
    image->orientation = header->orientation;
  }
  std::error_code ec;  // Only a file that could not be read needs the second look.
  image->exists = image->size || fs::is_regular_file(image->path, ec);
  if (!image->size) return;
  const fs::path absolute = fs::absolute(image->path);
  fs::path label = YoloLabelPath(absolute);
  std::optional<std::string> text = ReadFileIfExists(label);
  if (!text && !(label = DarknetVocLabelPath(absolute)).empty()) text = ReadFileIfExists(label);
  if (!text) return;
  image->label = std::move(label);
  const std::vector<YoloObject> objects = ParseYoloLabels(*text, image->label, static_cast<int>(config.names.size()));
  image->annotations.reserve(objects.size());
  // Ultralytics drops repeated label lines (same class and values) with a warning; so does segtune.
  const auto by_class_and_values = [](const YoloObject* a, const YoloObject* b) {
    return std::tie(a->class_id, a->values) < std::tie(b->class_id, b->values);
  };
  std::set<const YoloObject*, decltype(by_class_and_values)> seen(by_class_and_values);
  for (const YoloObject& o : objects) {
    if (!seen.insert(&o).second) {
      ++image->duplicates;
      continue;
    }
    image->annotations.push_back(ToAnnotation(o, image->size->width, image->size->height, image->orientation));
  }
}

// `path` relative to `root` when it lies below it, else `path` itself. A path listed under root
// (every image of a folder split) is a plain string prefix; only others need lexically_relative
// (~1 us each, a third of adding 5,000 images).
std::string FileNameUnder(const fs::path& path, const fs::path& root) {
  const std::string& p = path.native();
  std::string r = root.native();
  if (!r.empty() && r.back() != '/') r += '/';
  const bool plain = p.find("/./") == std::string::npos && p.find("/../") == std::string::npos;
  if (plain && r.size() > 1 && p.size() > r.size() && p.compare(0, r.size(), r) == 0 &&
      r.find("/./") == std::string::npos && r.find("/../") == std::string::npos) {
    return p.substr(r.size());
  }
  const fs::path relative = path.lexically_relative(root);
  const bool inside = !relative.empty() && *relative.begin() != "..";
  return inside ? relative.generic_string() : path.string();
}

// Adds one image (and its label file's objects) to the dataset.
void AddImage(ImageOnDisk& on_disk, const YoloConfig& config, LabeledDataset* dataset, ConversionReport* report) {
  CocoImage image;
  image.id = {std::to_string(dataset->coco.images.size() + 1), true};
  image.file_name = FileNameUnder(on_disk.path, config.root);
  if (on_disk.duplicates > 0) {
    report->Warn(on_disk.label, "", std::to_string(on_disk.duplicates) + " repeated label line(s) dropped");
  }
  if (on_disk.exists) {
    if (!on_disk.size) {
      report->Warn(on_disk.path, "", "image skipped: its size cannot be read from the header (JPEG, PNG, BMP, GIF and WebP can)");
      return;
    }
    image.width = on_disk.size->width, image.height = on_disk.size->height;
    for (CocoAnnotation& a : on_disk.annotations) {
      a.id = static_cast<int64_t>(dataset->coco.annotations.size() + 1);
      a.image_id = image.id;
      dataset->coco.annotations.push_back(std::move(a));
    }
  } else if (dataset->missing_image_files) {
    dataset->missing_image_files->insert(image.file_name);
  }  // A missing image stays listed (size 0) for the conversion's missing-image check.
  if (!on_disk.split.empty()) dataset->subset_of_image[image.id.text] = on_disk.split;
  dataset->coco.images.push_back(std::move(image));
}

// Every image of every split, in order, each once (a repeat is kept in its first split, with a warning).
std::vector<ImageOnDisk> ListImages(const YoloConfig& config, ConversionReport* report) {
  std::vector<ImageOnDisk> images;
  std::unordered_map<std::string, const std::string*> split_of_path;
  for (const YoloSplitSource& source : config.sources) {
    int repeated = 0;
    std::string first_repeated;
    for (fs::path& path : YoloSourceImages(source, config.root)) {
      const auto [it, added] = split_of_path.emplace(path.native(), &source.split);
      if (!added) {
        if (repeated++ == 0) first_repeated = path.string() + "' (in split '" + *it->second + "')";
        continue;
      }
      images.push_back({std::move(path), source.split});
    }
    if (repeated > 0) {
      report->Warn(config.config_file, source.origin, std::to_string(repeated) + " image(s) of split '" + source.split +
                   "' were already read for an earlier split, and are kept there only (first: '" + first_repeated + ")");
    }
  }
  return images;
}

// One warning for the images with an EXIF orientation: their coordinates were moved, and other tools
// that ignore the orientation (TensorFlow's decoders) show them turned.
void WarnOfTurnedImages(const std::vector<ImageOnDisk>& images, const YoloConfig& config, ConversionReport* report) {
  size_t turned = 0;
  const ImageOnDisk* first = nullptr;
  for (const ImageOnDisk& image : images) {
    if (image.orientation == 1 || !image.size) continue;
    if (turned++ == 0) first = &image;
  }
  if (turned == 0) return;
  report->Warn(config.config_file, "", std::to_string(turned) + " image(s) have an EXIF orientation (first: " +
               first->path.string() + ", orientation " + std::to_string(first->orientation) + "): their labels, " +
               "given in the displayed frame as Ultralytics reads them, are converted to the stored pixels' frame " +
               "that COCO and TFRecord use");
}

LabeledDataset ReadYolo(const fs::path& input, const ReadOptions& options, ConversionReport* report) {
  const YoloConfig config = LoadYoloConfig(input, report);
  LabeledDataset dataset;
  dataset.images_dir = options.images_dir.empty() ? config.root : options.images_dir;
  for (size_t i = 0; i < config.names.size(); ++i) {
    dataset.coco.categories.push_back({static_cast<int64_t>(i + 1), config.names[i], "", {}});
  }
  std::vector<ImageOnDisk> images = ListImages(config, report);
  // Two small files per image: reading them on every core is ~2x faster on 2 cores (bench/convert_bench.sh).
  ParallelFor(images.size(), [&](size_t i) { ReadFromDisk(config, &images[i]); });
  // Each image was looked for where ImageFilePath finds it, unless --images-dir points elsewhere.
  if (options.images_dir.empty()) dataset.missing_image_files.emplace();
  size_t annotations = 0, labeled = 0;
  for (const ImageOnDisk& image : images) {
    annotations += image.annotations.size();
    labeled += image.label.empty() ? 0 : 1;
  }
  // Images without a label file are background images; all of them without one is a layout segtune
  // did not understand, which should not pass for an unlabeled dataset in silence.
  if (labeled == 0 && !images.empty() && images.front().size) {
    report->Warn(config.config_file, "", "no label file found for any of the " + std::to_string(images.size()) +
                                             " images (the first one's would be " +
                                             YoloLabelPath(fs::absolute(images.front().path)).string() + ")");
  }
  WarnOfTurnedImages(images, config, report);
  dataset.coco.images.reserve(images.size());
  dataset.coco.annotations.reserve(annotations);
  for (ImageOnDisk& image : images) AddImage(image, config, &dataset, report);
  return dataset;
}

// ---- writer -------------------------------------------------------------------------------------

// Values normalized by the image size, clamped to [0, 1]; counts the values that were outside.
std::vector<double> Normalize(const std::vector<double>& xy, double w, double h, int* clamped) {
  std::vector<double> out(xy.size());
  for (size_t i = 0; i < xy.size(); ++i) {
    const double v = xy[i] / (i % 2 == 0 ? w : h);
    if (v < -1e-6 || v > 1 + 1e-6) ++*clamped;
    out[i] = std::min(1.0, std::max(0.0, v));
  }
  return out;
}

struct LabelWriter {
  const fs::path& source;  // The output, named in warnings.
  const WriteOptions& options;
  ConversionReport* report;
  std::map<int64_t, int> class_of_category;

  // One label line in the displayed frame of an image of EXIF orientation `orientation`.
  static std::string Line(int cls, std::vector<double> stored, bool segment, int orientation) {
    return FormatYoloLine(cls, InOtherFrame(orientation, std::move(stored), segment, StoredToDisplayed)) + "\n";
  }

  // The label lines of one annotation, appended to *text.
  void Append(const CocoAnnotation& a, const CocoImage& image, int orientation, std::string* text, int* clamped) {
    const std::string element = "image '" + image.file_name + "': annotation " + std::to_string(a.id);
    const auto cls = class_of_category.find(a.category_id);
    if (cls == class_of_category.end()) {
      return report->Warn(source, element, "category " + std::to_string(a.category_id) + " is not in the categories; skipped");
    }
    if (a.iscrowd) return report->Warn(source, element, "crowd region skipped (YOLO has no crowd flag)");
    const double w = image.width, h = image.height;
    if (!a.segmentation.polygons.empty()) {
      if (a.segmentation.polygons.size() > 1) {
        report->Warn(source, element, "instance of " + std::to_string(a.segmentation.polygons.size()) +
                                          " polygons written as that many segment lines");
      }
      for (const auto& polygon : a.segmentation.polygons) {
        if (polygon.size() < 6) {
          report->Warn(source, element, "polygon of fewer than 3 points skipped");
          continue;
        }
        *text += Line(cls->second, Normalize(polygon, w, h, clamped), true, orientation);
      }
      return;
    }
    if (a.segmentation.rle) {
      return AppendTraced(*a.segmentation.rle, cls->second, element, image, orientation, text, clamped);
    }
    if (a.bbox[2] <= 0 || a.bbox[3] <= 0) return report->Warn(source, element, "empty box skipped");
    const std::vector<double> corners = {a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2], a.bbox[1] + a.bbox[3]};
    const std::vector<double> n = Normalize(corners, w, h, clamped);
    *text += Line(cls->second, {(n[0] + n[2]) / 2, (n[1] + n[3]) / 2, n[2] - n[0], n[3] - n[1]}, false, orientation);
  }

  // Masks become one segment line per region; holes cannot be written.
  void AppendTraced(const Rle& rle, int cls, const std::string& element, const CocoImage& image, int orientation,
                    std::string* text, int* clamped) {
    const TraceResult traced = TracePolygons(rle, {options.polygon_tolerance, options.min_area});
    size_t holes = 0;
    for (const TracedRegion& region : traced.regions) {
      holes += region.holes.size();
      *text += Line(cls, Normalize(region.outer, image.width, image.height, clamped), true, orientation);
    }
    if (holes > 0) report->Warn(source, element, std::to_string(holes) + " hole(s) of the mask dropped (YOLO segments have none)");
    if (traced.dropped_small > 0) {
      report->Warn(source, element, std::to_string(traced.dropped_small) + " mask region(s) below --min-area dropped");
    }
    if (traced.regions.empty()) report->Warn(source, element, "mask has no region to write");
  }
};

// YAML single-quoted: '' is the only escape; control characters cannot be written.
std::string YamlQuote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') out += "''";
    else out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
  return out + "'";
}

// data.yaml for the split folders written. Other split names than train/val/test are warned about:
// Ultralytics would not read them.
std::string DataYaml(const LabeledDataset& dataset, const std::set<std::string>& splits, const fs::path& output,
                     ConversionReport* report) {
  std::string yaml = "# YOLO dataset written by segtune convert (Ultralytics layout, docs/formats.md §17).\n"
                     "# No 'path': Ultralytics then uses this file's folder as the dataset root.\n";
  for (const char* split : {"train", "val", "test"}) {
    if (splits.count(split)) yaml += std::string(split) + ": images/" + split + "\n";
  }
  // Ultralytics needs train and val.
  const std::string any = splits.count("train") ? "train" : *splits.begin();
  if (!splits.count("train")) yaml += "train: images/" + any + "  # no train split in the input\n";
  if (!splits.count("val")) yaml += "val: images/" + any + "  # no val split in the input\n";
  for (const std::string& split : splits) {
    if (split != "train" && split != "val" && split != "test" && split != any) {
      report->Warn(output, "split '" + split + "'", "written to images/" + split + "/ but not named in data.yaml "
                   "(Ultralytics reads train, val and test only)");
    }
  }
  yaml += "nc: " + std::to_string(dataset.coco.categories.size()) + "\nnames:\n";
  for (size_t i = 0; i < dataset.coco.categories.size(); ++i) {
    yaml += "  " + std::to_string(i) + ": " + YamlQuote(dataset.coco.categories[i].name) + "\n";
  }
  return yaml;
}

// The label file of one image (and the image beside it) into split folder `split` of `dir`.
void WriteImageLabels(const LabeledDataset& dataset, const CocoImage& input_image,
                      const std::vector<const CocoAnnotation*>& annotations, const std::string& split,
                      const std::string& name, const fs::path& dir, LabelWriter* labels) {
  const CocoImage image = PlaceImage(dataset, input_image, dir / "images" / split / name, labels->source, labels->report);
  std::string text;
  int clamped = 0;
  const std::string element = "image '" + image.file_name + "'";
  if (image.width <= 0 || image.height <= 0) {
    if (!annotations.empty()) labels->report->Warn(labels->source, element, "size unknown; its annotations are skipped");
  } else {
    // Ultralytics reads a JPEG's labels in its displayed frame (see ToAnnotation).
    const std::optional<ImageFileHeader> header = ReadImageFileHeader(ImageFilePath(dataset, input_image.file_name));
    const int orientation = header ? header->orientation : 1;
    for (const CocoAnnotation* a : annotations) labels->Append(*a, image, orientation, &text, &clamped);
  }
  if (clamped > 0) {
    labels->report->Warn(labels->source, element, std::to_string(clamped) + " coordinate(s) outside the image clamped to it");
  }
  WriteFileInNewDirectory(dir / "labels" / split / (fs::path(name).stem().string() + ".txt"), text);
}

void WriteYolo(const LabeledDataset& dataset, const fs::path& output, const WriteOptions& options,
               ConversionReport* report) {
  CheckConvertOutputDirectory(output, options.overwrite, "YOLO dataset");
  AtomicDirectory dir(output);
  // Warnings name the output: the writer does not know the input's files.
  LabelWriter labels{output, options, report, {}};
  for (size_t i = 0; i < dataset.coco.categories.size(); ++i) {
    const std::string& name = dataset.coco.categories[i].name;
    if (name.find_first_of("\r\n\t") != std::string::npos) {
      report->Warn(output, "category '" + name + "'", "control characters in the name written as spaces");
    }
    labels.class_of_category[dataset.coco.categories[i].id] = static_cast<int>(i);
  }
  std::map<std::string, std::vector<const CocoAnnotation*>> annotations_of;
  for (const auto& a : dataset.coco.annotations) annotations_of[a.image_id.text].push_back(&a);
  std::map<std::string, StemNamer> namers;
  std::set<std::string> splits;
  for (const CocoImage& image : dataset.coco.images) {
    const std::string split = SplitFolderOf(dataset, image, "train");
    if (splits.insert(split).second) {
      fs::create_directories(dir.temp_path() / "images" / split);
      fs::create_directories(dir.temp_path() / "labels" / split);
    }
    const std::string name = namers[split].Name(image.file_name, output, report);
    WriteImageLabels(dataset, image, annotations_of[image.id.text], split, name, dir.temp_path(), &labels);
  }
  if (splits.empty()) splits.insert("train");
  WriteFileInNewDirectory(dir.temp_path() / "data.yaml", DataYaml(dataset, splits, output, report));
  WriteConvertMarker(dir.temp_path(), "yolo");
  dir.Commit();
  report->written.push_back(output);
}

}  // namespace

AnnotationFormat YoloAnnotationFormat() {
  return {"yolo", DetectYolo, ReadYolo, WriteYolo};
}

}  // namespace segtune
