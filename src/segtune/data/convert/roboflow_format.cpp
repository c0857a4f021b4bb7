// Roboflow's COCO export (docs/formats.md §16): a folder with train/, valid/ and test/, each holding
// `_annotations.coco.json` and its images. Read only: writing it would be plain COCO per split.
//
// What differs from plain COCO: ids restart at 0 in every split (images and annotations are
// renumbered 1..N across splits here), splits come from the folder names ("valid" becomes "val"),
// and category 0 is the dataset's name, the super-category of every class, which no annotation uses:
// it is dropped with a warning. Class ids are kept.
#include <algorithm>
#include <set>

#include "segtune/core/error.h"
#include "segtune/data/convert/formats_list.h"
#include "segtune/data/convert/file_head.h"
#include "segtune/data/convert/json_input.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAnnotationsFile = "_annotations.coco.json";

std::string SubsetOf(const std::string& folder) {
  if (folder == "valid" || folder == "val") return "val";
  if (folder == "train" || folder == "test") return folder;
  return "";
}

// The split files: `input` itself, or <input>/_annotations.coco.json and <input>/*/_annotations.coco.json.
std::vector<fs::path> SplitFiles(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_directory(input, ec)) return {input};
  std::vector<fs::path> files;
  if (fs::is_regular_file(input / kAnnotationsFile, ec)) files.push_back(input / kAnnotationsFile);
  for (const auto& entry : fs::directory_iterator(input, ec)) {
    if (entry.is_directory(ec) && fs::is_regular_file(entry.path() / kAnnotationsFile, ec)) {
      files.push_back(entry.path() / kAnnotationsFile);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

int DetectRoboflow(const fs::path& input) {
  std::error_code ec;
  if (fs::is_regular_file(input, ec)) {
    return input.filename() == kAnnotationsFile && FirstNonBlank(FileHead(input)) == '{' ? 30 : 0;
  }
  return fs::is_directory(input, ec) && !SplitFiles(input).empty() ? 30 : 0;
}

// Category ids must agree between splits (Roboflow writes the same list into each).
void MergeCategories(const CocoDataset& split, const fs::path& file, CocoDataset* merged) {
  for (const auto& c : split.categories) {
    const auto same = std::find_if(merged->categories.begin(), merged->categories.end(),
                                   [&](const CocoCategory& m) { return m.id == c.id; });
    if (same == merged->categories.end()) {
      merged->categories.push_back(c);
    } else if (same->name != c.name) {
      throw FormatError(file, "categories: id " + std::to_string(c.id),
                        "named '" + c.name + "' here but '" + same->name + "' in another split");
    }
  }
}

// Roboflow's extra category: unused by annotations, and the super-category of another category.
void DropDatasetCategory(const fs::path& input, CocoDataset* coco, ConversionReport* report) {
  std::set<int64_t> used;
  for (const auto& a : coco->annotations) used.insert(a.category_id);
  auto& cats = coco->categories;
  for (auto it = cats.begin(); it != cats.end();) {
    const bool parent = std::any_of(cats.begin(), cats.end(), [&](const CocoCategory& c) {
      return c.id != it->id && c.supercategory == it->name;
    });
    if (!used.count(it->id) && parent) {
      report->Warn(input, "category " + std::to_string(it->id) + " '" + it->name + "'",
                   "dropped: Roboflow's dataset-name super-category, not a class");
      it = cats.erase(it);
    } else {
      ++it;
    }
  }
}

LabeledDataset ReadRoboflow(const fs::path& input, const ReadOptions& options, ConversionReport* report) {
  std::error_code ec;
  const fs::path root = fs::is_directory(input, ec) ? input : input.parent_path();
  LabeledDataset dataset;
  dataset.images_dir = options.images_dir.empty() ? root : options.images_dir;
  const std::vector<fs::path> files = SplitFiles(input);
  if (files.empty()) throw UsageError("roboflow: " + input.string() + " holds no " + kAnnotationsFile);
  for (const auto& file : files) {
    CocoDataset split = LoadCoco(file);
    const fs::path folder = file.parent_path().lexically_relative(root);
    const std::string subset = SubsetOf(file.parent_path().filename().string());
    MergeCategories(split, file, &dataset.coco);
    std::map<std::string, ImageId> new_id;
    for (auto& image : split.images) {
      ImageId id{std::to_string(dataset.coco.images.size() + 1), true};
      new_id[image.id.text] = id;
      image.id = id;
      image.file_name = (folder / image.file_name).lexically_normal().generic_string();
      if (!subset.empty()) dataset.subset_of_image[id.text] = subset;
      dataset.coco.images.push_back(std::move(image));
    }
    for (auto& a : split.annotations) {
      const auto it = new_id.find(a.image_id.text);
      if (it == new_id.end()) {
        throw FormatError(file, "annotation " + std::to_string(a.id), "image_id " + a.image_id.text + " is not an image of this file");
      }
      a.image_id = it->second;
      a.id = int64_t(dataset.coco.annotations.size()) + 1;
      dataset.coco.annotations.push_back(std::move(a));
    }
    if (dataset.coco.info.empty()) dataset.coco.info = split.info;
  }
  DropDatasetCategory(input, &dataset.coco, report);
  return dataset;
}

}  // namespace

AnnotationFormat RoboflowAnnotationFormat() {
  return {"roboflow", DetectRoboflow, ReadRoboflow, nullptr};
}

}  // namespace segtune
