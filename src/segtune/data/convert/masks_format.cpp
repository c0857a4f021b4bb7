// Semantic mask folders: one label image per photo, a class (or a Cityscapes instance) per pixel.
// Read: a generic images/ + masks/ pair with classes.txt or a colour table (mask_class_table.h),
// Kaggle CamVid's <split>/ + <split>_labels/ with class_dict.csv, Cityscapes gtFine/ + leftImg8bit/,
// or ADE20K (SceneParsing images/ + annotations/, or the full dataset's _seg.png: ade20k_masks.h).
// Written: images/ + masks/ (8-bit class-index PNGs) + classes.txt. docs/formats.md §17.
//
// Each (image, class) present becomes one COCO annotation with an RLE mask (iscrowd 0); Cityscapes
// instanceIds give one per instance. Ignored pixels (255, void classes) are no annotation: they
// travel as the image's "ignore_mask" RLE, which the writer paints back as 255.
// Category ids: the class index in the table (index + 1 when index 0 is a real class, so that no
// category has id 0); Cityscapes label ids; ADE20K class values.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/parallel_for.h"
#include "segtune/data/convert/ade20k_masks.h"
#include "segtune/data/convert/cityscapes_labels.h"
#include "segtune/data/convert/formats_list.h"
#include "segtune/data/convert/image_file_size.h"
#include "segtune/data/convert/label_image.h"
#include "segtune/data/convert/mask_annotations.h"
#include "segtune/data/convert/mask_class_table.h"
#include "segtune/data/convert/output_images.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/image_header.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

bool IsCamvid(const fs::path& input);

int DetectMasks(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_directory(input, ec)) return 0;
  if (fs::is_directory(input / "images", ec) && fs::is_directory(input / "masks", ec)) return 20;
  if (fs::is_directory(input / "gtFine", ec)) return 20;
  if (IsCamvid(input)) return 20;
  return DetectAde20kLayout(input) != Ade20kLayout::kNone ? 20 : 0;
}

// ---- generic images/ + masks/ --------------------------------------------------------------------

MaskMeaningFn TableMeaning(const MaskClassTable& table, int64_t offset, const fs::path& mask) {
  return [&table, offset, mask](int32_t v) {
    if (!table.colours && v == 255) return MaskMeaning{MaskMeaning::kIgnore};
    if (v < 0 || v >= static_cast<int32_t>(table.classes.size())) {
      throw FormatError(mask, "", "class index " + std::to_string(v) + " but " + table.file.filename().string() + " lists " +
                        std::to_string(table.classes.size()) + " classes (255 = ignore)");
    }
    const MaskClass& c = table.classes[v];
    if (c.role == MaskClassRole::kBackground) return MaskMeaning{MaskMeaning::kBackground};
    if (c.role == MaskClassRole::kIgnore) return MaskMeaning{MaskMeaning::kIgnore};
    return MaskMeaning{MaskMeaning::kObject, v + offset};
  };
}

// A photo and its label image.
struct MaskPair {
  fs::path photo;
  fs::path mask;
  std::string file_name;  // Relative to the input folder.
  std::string split;      // "" if none.
};

// images/<rel>.jpg with masks/<rel>.png; a first folder below images/ is the split.
std::vector<MaskPair> ImagesMasksPairs(const fs::path& input) {
  std::vector<MaskPair> pairs;
  for (const fs::path& photo : FilesBelow(input / "images", IsPhotoFile)) {
    const fs::path relative = photo.lexically_relative(input / "images");
    pairs.push_back({photo, (input / "masks" / relative).replace_extension(".png"), ("images" / relative).generic_string(),
                     relative.has_parent_path() ? relative.begin()->string() : ""});
  }
  return pairs;
}

// Kaggle CamVid: <split>/x.png with <split>_labels/x_L.png, for every folder that has a _labels twin.
std::vector<MaskPair> CamvidPairs(const fs::path& input) {
  std::vector<MaskPair> pairs;
  std::vector<fs::path> splits;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(input, ec)) {
    if (entry.is_directory(ec) && fs::is_directory(input / (entry.path().filename().string() + "_labels"), ec)) {
      splits.push_back(entry.path());
    }
  }
  std::sort(splits.begin(), splits.end());
  for (const fs::path& dir : splits) {
    const std::string split = dir.filename().string();
    for (const fs::path& photo : FilesBelow(dir, IsPhotoFile)) {
      const fs::path relative = photo.lexically_relative(dir);
      fs::path mask = input / (split + "_labels") / relative;
      mask.replace_filename(photo.stem().string() + "_L.png");
      pairs.push_back({photo, mask, (split / relative).generic_string(), split});
    }
  }
  return pairs;
}

bool IsCamvid(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_regular_file(input / "class_dict.csv", ec)) return false;
  for (const auto& entry : fs::directory_iterator(input, ec)) {
    if (entry.is_directory(ec) && fs::is_directory(input / (entry.path().filename().string() + "_labels"), ec)) return true;
  }
  return false;
}

LabeledDataset ReadTableLayout(const fs::path& input, ConversionReport* report) {
  const fs::path table_file = FindMaskClassTable(input);
  if (table_file.empty()) {
    throw FormatError(input, "", "no class table: expected classes.txt (one name per line), labelmap.txt "
                      "(name:r,g,b::) or class_dict.csv (name,r,g,b) beside images/ and masks/");
  }
  const MaskClassTable table = LoadMaskClassTable(table_file);
  LabeledDataset dataset;
  dataset.images_dir = input;
  const int64_t offset = table.classes[0].role == MaskClassRole::kClass ? 1 : 0;
  for (size_t i = 0; i < table.classes.size(); ++i) {
    if (table.classes[i].role == MaskClassRole::kClass) {
      dataset.coco.categories.push_back({static_cast<int64_t>(i) + offset, table.classes[i].name, "", {}});
    }
  }
  std::error_code ec;
  const bool camvid = !fs::is_directory(input / "images", ec) && IsCamvid(input);
  const std::vector<MaskPair> pairs = camvid ? CamvidPairs(input) : ImagesMasksPairs(input);
  // Decoding and run-length coding the masks is the work: on every core first, then the images are
  // added in order (ids, warnings and the first error as a sequential read's).
  std::vector<std::optional<MaskRegions>> regions(pairs.size());  // Unset: no mask file.
  ParallelFor(pairs.size(), [&](size_t i) {
    const MaskPair& pair = pairs[i];
    std::error_code exists_ec;
    if (!fs::is_regular_file(pair.mask, exists_ec)) return;
    const LabelImage labels =
        table.colours ? ReadColourMask(pair.mask, table.index_of_rgb) : ReadIndexMask(pair.mask, false);
    CheckMaskCoversPhoto(pair.photo, pair.mask, labels);
    regions[i] = RegionsOf(labels);
  });
  for (size_t i = 0; i < pairs.size(); ++i) {
    const MaskPair& pair = pairs[i];
    if (!regions[i]) {
      report->Warn(pair.photo, "", "no mask " + pair.mask.string() + "; the image has no objects");
      regions[i].emplace();
      if (const auto size = ReadImageFileSize(pair.photo)) regions[i]->width = size->width, regions[i]->height = size->height;
    }
    CocoImage image = NewMaskImage(dataset, pair.file_name, regions[i]->width, regions[i]->height);
    AddMaskAnnotations(std::move(*regions[i]), TableMeaning(table, offset, pair.mask), &image, &dataset.coco);
    if (!pair.split.empty()) dataset.subset_of_image[image.id.text] = pair.split;
    dataset.coco.images.push_back(std::move(image));
  }
  return dataset;
}

// ---- Cityscapes gtFine ---------------------------------------------------------------------------

// The label file of each frame (<split>/<city>/<frame>): instanceIds, else labelIds, else
// labelTrainIds (the richest kind present).
std::map<std::string, fs::path> CityscapesFrames(const fs::path& gt) {
  static const std::string kKinds[] = {"_gtFine_instanceIds.png", "_gtFine_labelIds.png", "_gtFine_labelTrainIds.png"};
  std::map<std::string, std::pair<int, fs::path>> best;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(gt, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    for (int k = 0; k < 3; ++k) {
      const std::string& suffix = kKinds[k];
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      const fs::path relative = it->path().lexically_relative(gt);
      const std::string frame = (relative.parent_path() / name.substr(0, name.size() - suffix.size())).generic_string();
      const auto found = best.find(frame);
      if (found == best.end() || found->second.first > k) best[frame] = {k, it->path()};
    }
  }
  std::map<std::string, fs::path> frames;
  for (const auto& [frame, choice] : best) frames[frame] = choice.second;
  return frames;
}

MaskMeaningFn CityscapesMeaning(const fs::path& file) {
  const std::string name = file.filename().string();
  const bool instances = name.find("_instanceIds") != std::string::npos;
  const bool train_ids = name.find("_labelTrainIds") != std::string::npos;
  return [file, instances, train_ids](int32_t v) {
    const CityscapesLabel* label = nullptr;
    if (train_ids) {
      if (v == 255) return MaskMeaning{MaskMeaning::kIgnore};
      label = CityscapesLabelByTrainId(v);
    } else {
      if (!instances && v == 255) return MaskMeaning{MaskMeaning::kIgnore};  // 255 means ignore wherever 8-bit ids are.
      label = CityscapesLabelById(instances && v >= 1000 ? v / 1000 : v);
    }
    if (label == nullptr) {
      throw FormatError(file, "", "value " + std::to_string(v) + " is not a Cityscapes " + (train_ids ? "train id" : "label id"));
    }
    if (label->ignore_in_eval) return MaskMeaning{MaskMeaning::kIgnore};
    // In instanceIds, pixels of an instance class below 1000 are a group no one separated: a crowd.
    const bool crowd = instances && v < 1000 && label->has_instances;
    return MaskMeaning{MaskMeaning::kObject, label->id, crowd};
  };
}

LabeledDataset ReadCityscapes(const fs::path& input) {
  LabeledDataset dataset;
  dataset.images_dir = input;
  for (const auto& label : CityscapesLabels()) {
    if (!label.ignore_in_eval) dataset.coco.categories.push_back({label.id, label.name, label.category, {}});
  }
  for (const auto& [frame, file] : CityscapesFrames(input / "gtFine")) {
    const std::string file_name = "leftImg8bit/" + frame + "_leftImg8bit.png";
    const bool instances = file.filename().string().find("_instanceIds") != std::string::npos;
    const LabelImage labels = ReadIndexMask(file, instances);
    CheckMaskCoversPhoto(input / file_name, file, labels);
    CocoImage image = NewMaskImage(dataset, file_name, labels);
    AddMaskAnnotations(labels, CityscapesMeaning(file), &image, &dataset.coco);
    const fs::path relative(frame);
    if (relative.has_parent_path()) dataset.subset_of_image[image.id.text] = relative.begin()->string();
    dataset.coco.images.push_back(std::move(image));
  }
  return dataset;
}

LabeledDataset ReadMasks(const fs::path& input, const ReadOptions& options, ConversionReport* report) {
  std::error_code ec;
  if (!fs::is_directory(input, ec)) throw FormatError(input, "", "expected a folder with images/ and masks/, Cityscapes gtFine/ or ADE20K");
  const bool generic = fs::is_directory(input / "images", ec) && fs::is_directory(input / "masks", ec);
  const Ade20kLayout ade = generic || IsCamvid(input) ? Ade20kLayout::kNone : DetectAde20kLayout(input);
  LabeledDataset dataset = fs::is_directory(input / "gtFine", ec) ? ReadCityscapes(input)
                           : ade != Ade20kLayout::kNone        ? ReadAde20k(input, ade, report)
                                                               : ReadTableLayout(input, report);
  if (!options.images_dir.empty()) dataset.images_dir = options.images_dir;
  return dataset;
}

// ---- writer -------------------------------------------------------------------------------------

struct ClassIndex {
  std::map<int64_t, uint8_t> of_category;
  std::vector<std::string> names;  // classes.txt, by index.
};

// Class index 0 is background (a category called background, or none), then the other categories
// in their order, from 1.
ClassIndex IndexCategories(const CocoDataset& coco) {
  ClassIndex index;
  index.names.push_back("background");
  for (const CocoCategory& c : coco.categories) {
    if (MaskClassRoleOf(c.name) == MaskClassRole::kBackground) {
      index.of_category[c.id] = 0;
      index.names[0] = c.name;
      continue;
    }
    if (index.names.size() >= 255) {
      throw UsageError("convert: " + std::to_string(coco.categories.size()) + " categories do not fit 8-bit class-index "
                       "masks (background 0, classes 1..254, 255 = ignore)");
    }
    index.of_category[c.id] = static_cast<uint8_t>(index.names.size());
    // classes.txt holds one name per line: no line breaks, no empty names.
    const bool usable = !c.name.empty() && c.name.find_first_of("\r\n") == std::string::npos;
    index.names.push_back(usable ? c.name : "class_" + std::to_string(c.id));
  }
  return index;
}

std::optional<Rle> MaskOf(const CocoAnnotation& a, const CocoImage& image, const fs::path& output,
                          ConversionReport* report) {
  const std::string element = "image '" + image.file_name + "': annotation " + std::to_string(a.id);
  const uint32_t h = image.height, w = image.width;
  if (a.segmentation.rle) {
    if (a.segmentation.rle->h == h && a.segmentation.rle->w == w) return a.segmentation.rle;
    report->Warn(output, element, "mask size differs from the image's; skipped");
    return std::nullopt;
  }
  if (a.segmentation.polygons.empty() && (a.bbox[2] <= 0 || a.bbox[3] <= 0)) return std::nullopt;
  try {
    if (!a.segmentation.polygons.empty()) return RleFromPolygons(a.segmentation.polygons, h, w);
    report->Warn(output, element, "box without a mask painted as a filled rectangle");
    return RleFromBbox(a.bbox, h, w);
  } catch (const FormatError& e) {  // A coordinate too large to rasterize: the rasterizer knows no place.
    throw FormatError("convert: " + element + ": " + e.what());
  }
}

// One annotation to paint: its mask and class index.
struct Layer {
  Rle rle;
  uint8_t cls = 0;
  uint64_t area = 0;  // Of the mask itself: an annotation's `area` field may be missing or stale.
};

std::vector<Layer> Layers(const std::vector<const CocoAnnotation*>& annotations, const CocoImage& image,
                          const ClassIndex& index, const fs::path& output, ConversionReport* report) {
  std::vector<Layer> layers;
  for (const CocoAnnotation* a : annotations) {
    const auto cls = index.of_category.find(a->category_id);
    if (cls == index.of_category.end()) {
      report->Warn(output, "image '" + image.file_name + "': annotation " + std::to_string(a->id),
                   "category " + std::to_string(a->category_id) + " is not in the categories; skipped");
      continue;
    }
    std::optional<Rle> rle = MaskOf(*a, image, output, report);
    if (!rle) continue;
    const uint64_t area = RleArea(*rle);
    layers.push_back({std::move(*rle), cls->second, area});
  }
  return layers;
}

// Paints the image's annotations: larger masks first, so an object lying on a larger one stays
// visible; equal areas in annotation order (later on top). Returns pixels two classes claimed.
uint64_t Paint(const std::vector<const CocoAnnotation*>& annotations, const CocoImage& image, const ClassIndex& index,
               const fs::path& output, ConversionReport* report, std::vector<uint8_t>* pixels) {
  std::vector<Layer> layers = Layers(annotations, image, index, output, report);
  std::stable_sort(layers.begin(), layers.end(), [](const Layer& a, const Layer& b) { return a.area > b.area; });
  std::vector<uint8_t> mask(pixels->size()), owner(pixels->size(), 0);
  uint64_t contested = 0;
  for (const Layer& layer : layers) {
    RleDecode(layer.rle, mask.data());
    for (size_t i = 0; i < mask.size(); ++i) {
      if (!mask[i]) continue;
      if (owner[i] && (*pixels)[i] != layer.cls) ++contested;
      (*pixels)[i] = layer.cls;
      owner[i] = 1;
    }
  }
  return contested;
}

void PaintIgnore(const CocoImage& image, const fs::path& output, ConversionReport* report, std::vector<uint8_t>* pixels) {
  const auto it = image.extra.find(kIgnoreMaskKey);
  if (it == image.extra.end()) return;
  try {
    const Rle rle = RleFromString(it->at("counts").get<std::string>(), it->at("size")[0].get<uint32_t>(),
                                  it->at("size")[1].get<uint32_t>());
    if (rle.h != uint32_t(image.height) || rle.w != uint32_t(image.width)) throw Error("size differs from the image's");
    std::vector<uint8_t> mask(pixels->size());
    RleDecode(rle, mask.data());
    for (size_t i = 0; i < mask.size(); ++i) {
      if (mask[i]) (*pixels)[i] = 255;
    }
  } catch (const std::exception& e) {
    report->Warn(output, "image '" + image.file_name + "': " + kIgnoreMaskKey, std::string("not a valid RLE (") + e.what() + "); ignored");
  }
}

// The class-index mask of one image (and the image beside it), into `images` and `masks`.
void WriteImageMask(const LabeledDataset& dataset, const CocoImage& input_image,
                    const std::vector<const CocoAnnotation*>& annotations, const ClassIndex& index,
                    const std::string& name, const fs::path& images, const fs::path& masks, const fs::path& output,
                    ConversionReport* report) {
  const CocoImage image = PlaceImage(dataset, input_image, images / name, output, report);
  const std::string element = "image '" + image.file_name + "'";
  if (image.width <= 0 || image.height <= 0) return report->Warn(output, element, "size unknown; no mask written");
  CheckImagePixels(image.width, image.height, image.file_name, "", "mask");
  std::vector<uint8_t> pixels(size_t(image.width) * image.height, 0);
  const uint64_t contested = Paint(annotations, image, index, output, report, &pixels);
  if (contested > 0) {
    report->Warn(output, element, std::to_string(contested) + " pixel(s) claimed by overlapping annotations of "
                 "different classes: the smaller annotation's class kept");
  }
  PaintIgnore(image, output, report, &pixels);
  WriteFileInNewDirectory(masks / (fs::path(name).stem().string() + ".png"),
                          EncodeGrayPng(pixels.data(), image.height, image.width));
}

void WriteMasks(const LabeledDataset& dataset, const fs::path& output, const WriteOptions& options,
                ConversionReport* report) {
  CheckConvertOutputDirectory(output, options.overwrite, "mask folder");
  const ClassIndex index = IndexCategories(dataset.coco);
  AtomicDirectory dir(output);
  std::map<std::string, std::vector<const CocoAnnotation*>> annotations_of;
  for (const auto& a : dataset.coco.annotations) annotations_of[a.image_id.text].push_back(&a);
  std::map<std::string, StemNamer> namers;
  for (const CocoImage& image : dataset.coco.images) {
    const std::string split = SplitFolderOf(dataset, image, "");
    const bool new_split = namers.count(split) == 0;
    const std::string name = namers[split].Name(image.file_name, output, report);
    const fs::path images = dir.temp_path() / "images" / split, masks = dir.temp_path() / "masks" / split;
    if (new_split) fs::create_directories(images), fs::create_directories(masks);
    WriteImageMask(dataset, image, annotations_of[image.id.text], index, name, images, masks, output, report);
  }
  std::string classes;
  for (const std::string& n : index.names) classes += n + "\n";
  WriteFileInNewDirectory(dir.temp_path() / "classes.txt", classes);
  WriteConvertMarker(dir.temp_path(), "masks");
  dir.Commit();
  report->written.push_back(output);
}

}  // namespace

AnnotationFormat MasksAnnotationFormat() {
  return {"masks", DetectMasks, ReadMasks, WriteMasks};
}

}  // namespace segtune
