#include "segtune/data/convert/ade20k_masks.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/data/convert/ade20k_index.h"
#include "segtune/data/convert/label_image.h"
#include "segtune/data/convert/mask_annotations.h"
#include "segtune/data/convert/mask_class_table.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSegSuffix = "_seg.png";
// Enough to reach the first _seg.png of the full dataset (images/ADE/training/<kind>/<scene>/)
// without walking a large folder of another format to its end.
constexpr int kDetectEntries = 5000;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsJpeg(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg";
}

fs::path ObjectInfoFile(const fs::path& input) {
  std::error_code ec;
  for (const char* name : {"objectInfo150.csv", "objectInfo150.txt"}) {
    if (fs::is_regular_file(input / name, ec)) return input / name;
  }
  return {};
}

// ADE20K's split folders under segtune's split names; other folder names stay as they are.
std::string SplitName(const std::string& folder) {
  return folder == "training" ? "train" : folder == "validation" ? "val" : folder;
}

// A photo and its label image.
struct AdePair {
  fs::path photo;
  fs::path mask;
  std::string file_name;  // Relative to the input folder.
  std::string split;      // "" if none.
};

// images/<split>/x.jpg with annotations/<split>/x.png. Photos without an annotation are left out
// (each warned); annotations without a photo keep the photo's expected name for the missing-image
// check.
std::vector<AdePair> SceneParsingPairs(const fs::path& input, ConversionReport* report) {
  const fs::path images = input / "images", annotations = input / "annotations";
  std::map<std::string, AdePair> pairs;  // By relative path without extension.
  std::error_code ec;
  std::map<std::string, int> unannotated_folders;  // images/<folder> without annotations/<folder>.
  for (const fs::path& photo : FilesBelow(images, IsPhotoFile)) {
    const fs::path relative = photo.lexically_relative(images);
    const fs::path mask = (annotations / relative).replace_extension(".png");
    if (relative.has_parent_path() && !fs::is_directory(annotations / *relative.begin(), ec)) {
      ++unannotated_folders[relative.begin()->string()];  // A test set (release_test): one warning, not thousands.
      continue;
    }
    if (!fs::is_regular_file(mask, ec)) {
      report->Warn(photo, "", "no annotation " + mask.string() + "; image left out");
      continue;
    }
    const std::string split = relative.has_parent_path() ? SplitName(relative.begin()->string()) : "";
    pairs[fs::path(relative).replace_extension().generic_string()] = {photo, mask, ("images" / relative).generic_string(), split};
  }
  for (const fs::path& mask : FilesBelow(annotations, [](const fs::path& p) { return p.extension() == ".png"; })) {
    const fs::path relative = fs::path(mask.lexically_relative(annotations)).replace_extension(".jpg");
    const std::string key = fs::path(relative).replace_extension().generic_string();
    if (pairs.count(key)) continue;
    const std::string split = relative.has_parent_path() ? SplitName(relative.begin()->string()) : "";
    pairs[key] = {images / relative, mask, ("images" / relative).generic_string(), split};
  }
  for (const auto& [folder, n] : unannotated_folders) {
    report->Warn(images / folder, "", "no annotations/" + folder + " folder; its " + std::to_string(n) + " image(s) left out");
  }
  std::vector<AdePair> out;
  for (auto& [key, pair] : pairs) out.push_back(std::move(pair));
  return out;
}

// The split of a full-dataset file: its first folder called training or validation.
std::string FullSplit(const fs::path& relative) {
  for (const auto& part : relative.parent_path()) {
    if (part == "training" || part == "validation") return SplitName(part.string());
  }
  return "";
}

// x.jpg with x_seg.png beside it, anywhere below the input.
std::vector<AdePair> FullPairs(const fs::path& input, ConversionReport* report) {
  std::map<std::string, AdePair> pairs;  // By photo path.
  std::error_code ec;
  for (const fs::path& photo : FilesBelow(input, IsJpeg)) {
    const fs::path mask = photo.parent_path() / (photo.stem().string() + kSegSuffix);
    if (!fs::is_regular_file(mask, ec)) {
      report->Warn(photo, "", "no annotation " + mask.filename().string() + " beside it; image left out");
      continue;
    }
    const fs::path relative = photo.lexically_relative(input);
    pairs[photo.string()] = {photo, mask, relative.generic_string(), FullSplit(relative)};
  }
  for (const fs::path& mask : FilesBelow(input, [](const fs::path& p) { return EndsWith(p.filename().string(), kSegSuffix); })) {
    const std::string name = mask.filename().string();
    const fs::path photo = mask.parent_path() / (name.substr(0, name.size() - std::string(kSegSuffix).size()) + ".jpg");
    if (pairs.count(photo.string()) || fs::exists(fs::path(photo).replace_extension(".jpeg"), ec)) continue;
    const fs::path relative = photo.lexically_relative(input);
    pairs[photo.string()] = {photo, mask, relative.generic_string(), FullSplit(relative)};
  }
  std::vector<AdePair> out;
  for (auto& [key, pair] : pairs) out.push_back(std::move(pair));
  return out;
}

// "pixel (x, y)" of the first pixel holding `value`, for errors.
std::string FirstPixelOf(const LabelImage& labels, int32_t value) {
  const auto it = std::find(labels.values.begin(), labels.values.end(), value);
  const size_t i = static_cast<size_t>(it - labels.values.begin());
  if (labels.width <= 0) return "";
  return "pixel (" + std::to_string(i % labels.width) + ", " + std::to_string(i / labels.width) + ")";
}

// SceneParsing: 0 is other/unlabeled (ignored), 1..N the table's classes; any class without a table.
MaskMeaningFn SceneParsingMeaning(const MaskClassTable* table, const LabelImage& labels, const fs::path& mask,
                                  std::set<int64_t>* seen) {
  return [table, &labels, mask, seen](int32_t v) {
    if (v == 0) return MaskMeaning{MaskMeaning::kIgnore};
    if (table != nullptr && v >= static_cast<int32_t>(table->classes.size())) {
      throw FormatError(mask, FirstPixelOf(labels, v), "class index " + std::to_string(v) + " but " +
                        table->file.filename().string() + " lists " + std::to_string(table->classes.size() - 1) +
                        " classes (0 = other/unlabeled)");
    }
    seen->insert(v);
    return MaskMeaning{MaskMeaning::kObject, v};
  };
}

// Full dataset: value = class * 256 + B; class 0 is unlabeled (ignored); one annotation per
// (class, B), i.e. per object.
// `names` (null: no index found) is index_ade20k.pkl's objectnames: a class beyond it is an error.
MaskMeaningFn FullMeaning(const std::vector<std::string>* names, const fs::path& index_file, const LabelImage& labels,
                          const fs::path& mask, std::set<int64_t>* seen) {
  return [=, &labels](int32_t v) {
    const int64_t cls = v / 256;
    if (cls == 0) return MaskMeaning{MaskMeaning::kIgnore};
    if (names != nullptr && cls > static_cast<int64_t>(names->size())) {
      throw FormatError(mask, FirstPixelOf(labels, v), "class " + std::to_string(cls) + " but " + index_file.string() +
                        " names " + std::to_string(names->size()) + " classes (1 to " + std::to_string(names->size()) + ")");
    }
    seen->insert(cls);
    return MaskMeaning{MaskMeaning::kObject, cls};
  };
}

// sceneCategories.txt: "ADE_train_00000001 airport_terminal" lines, by image stem. Absent: none.
std::map<std::string, std::string> LoadScenes(const fs::path& file) {
  std::map<std::string, std::string> scenes;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return scenes;
  std::istringstream lines(ReadFile(file));
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string stem, scene;
    if (fields >> stem >> scene) scenes[stem] = scene;
  }
  return scenes;
}

// `names`: the full dataset's objectnames (class v is names[v - 1]), or empty. A name two classes
// share gets its class value appended, so that names stay unique.
void AddCategories(const std::optional<MaskClassTable>& table, const std::vector<std::string>& names,
                   const std::set<int64_t>& seen, CocoDataset* coco) {
  if (table) {
    for (size_t i = 1; i < table->classes.size(); ++i) coco->categories.push_back({int64_t(i), table->classes[i].name, "", {}});
    return;
  }
  std::map<std::string, int> uses;
  for (const int64_t v : seen) {
    if (!names.empty()) ++uses[names[static_cast<size_t>(v - 1)]];
  }
  for (const int64_t v : seen) {
    if (names.empty()) {
      coco->categories.push_back({v, "class_" + std::to_string(v), "", {}});
      continue;
    }
    const std::string& name = names[static_cast<size_t>(v - 1)];
    coco->categories.push_back({v, uses[name] > 1 ? name + " (" + std::to_string(v) + ")" : name, "", {}});
  }
}

}  // namespace

Ade20kLayout DetectAde20kLayout(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_directory(input, ec)) return Ade20kLayout::kNone;
  if (fs::is_directory(input / "images", ec) && fs::is_directory(input / "annotations", ec) &&
      (fs::is_directory(input / "annotations/training", ec) || fs::is_directory(input / "annotations/validation", ec) ||
       !ObjectInfoFile(input).empty())) {
    return Ade20kLayout::kSceneParsing;
  }
  int entries = 0;
  for (auto it = fs::recursive_directory_iterator(input, ec); it != fs::recursive_directory_iterator() && entries < kDetectEntries;
       it.increment(ec), ++entries) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    // With its photo beside it: other datasets name binary masks *_seg.png too.
    if (EndsWith(name, kSegSuffix) &&
        fs::is_regular_file(it->path().parent_path() / (name.substr(0, name.size() - std::string(kSegSuffix).size()) + ".jpg"), ec)) {
      return Ade20kLayout::kFull;
    }
  }
  return Ade20kLayout::kNone;
}

LabeledDataset ReadAde20k(const fs::path& input, Ade20kLayout layout, ConversionReport* report) {
  const bool scene_parsing = layout == Ade20kLayout::kSceneParsing;
  std::optional<MaskClassTable> table;
  if (scene_parsing && !ObjectInfoFile(input).empty()) table = LoadAde20kObjectInfo(ObjectInfoFile(input));
  const fs::path index_file = scene_parsing ? fs::path() : FindAde20kIndex(input);
  const std::vector<std::string> names = index_file.empty() ? std::vector<std::string>() : LoadAde20kObjectNames(index_file);
  const std::map<std::string, std::string> scenes = LoadScenes(input / "sceneCategories.txt");
  LabeledDataset dataset;
  dataset.images_dir = input;
  std::set<int64_t> seen;
  for (const AdePair& pair : scene_parsing ? SceneParsingPairs(input, report) : FullPairs(input, report)) {
    const LabelImage labels = scene_parsing ? ReadIndexMask(pair.mask, false) : ReadAde20kSegMask(pair.mask);
    CheckMaskCoversPhoto(pair.photo, pair.mask, labels);
    CocoImage image = NewMaskImage(dataset, pair.file_name, labels);
    AddMaskAnnotations(labels, scene_parsing ? SceneParsingMeaning(table ? &*table : nullptr, labels, pair.mask, &seen)
                                             : FullMeaning(index_file.empty() ? nullptr : &names, index_file, labels,
                                                           pair.mask, &seen),
                       &image, &dataset.coco);
    const auto scene = scenes.find(pair.photo.stem().string());
    if (scene != scenes.end()) image.extra["scene"] = scene->second;
    if (!pair.split.empty()) dataset.subset_of_image[image.id.text] = pair.split;
    dataset.coco.images.push_back(std::move(image));
  }
  AddCategories(table, names, seen, &dataset.coco);
  if (scene_parsing && !table) {
    report->Warn(input, "", "no objectInfo150.csv (or objectInfo150.txt): classes named class_<N> by their mask value");
  }
  if (!scene_parsing && index_file.empty()) {
    report->Warn(input, "", "no index_ade20k.pkl in it or in the three folders above it (the 2021 release has it at its "
                            "root): classes named class_<N> by their value (R / 10 * 256 + G)");
  }
  return dataset;
}

}  // namespace segtune
