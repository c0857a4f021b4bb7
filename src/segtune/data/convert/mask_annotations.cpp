#include "segtune/data/convert/mask_annotations.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "segtune/core/error.h"
#include "segtune/data/convert/image_file_size.h"

namespace segtune {

namespace fs = std::filesystem;

MaskRegions RegionsOf(const LabelImage& labels) { return {labels.width, labels.height, RlesByValue(labels)}; }

void AddMaskAnnotations(const LabelImage& labels, const MaskMeaningFn& meaning, CocoImage* image, CocoDataset* coco) {
  AddMaskAnnotations(RegionsOf(labels), meaning, image, coco);
}

void AddMaskAnnotations(MaskRegions regions, const MaskMeaningFn& meaning, CocoImage* image, CocoDataset* coco) {
  std::vector<Rle> ignored;
  for (auto& [value, rle] : regions.by_value) {
    const MaskMeaning m = meaning(value);
    if (m.kind == MaskMeaning::kIgnore) ignored.push_back(std::move(rle));
    if (m.kind != MaskMeaning::kObject) continue;
    CocoAnnotation a;
    a.id = static_cast<int64_t>(coco->annotations.size() + 1);
    a.image_id = image->id;
    a.category_id = m.category;
    a.bbox = RleToBbox(rle);
    a.area = static_cast<double>(RleArea(rle));
    a.iscrowd = m.crowd;
    a.segmentation.rle = std::move(rle);
    coco->annotations.push_back(std::move(a));
  }
  if (!ignored.empty()) {
    const Rle merged = ignored.size() == 1 ? ignored[0] : RleMerge(ignored, false);
    image->extra[kIgnoreMaskKey] = {{"size", {merged.h, merged.w}}, {"counts", RleToString(merged)}};
  }
}

CocoImage NewMaskImage(const LabeledDataset& dataset, const std::string& file_name, const LabelImage& labels) {
  return NewMaskImage(dataset, file_name, labels.width, labels.height);
}

CocoImage NewMaskImage(const LabeledDataset& dataset, const std::string& file_name, int width, int height) {
  CocoImage image;
  image.id = {std::to_string(dataset.coco.images.size() + 1), true};
  image.file_name = file_name;
  image.width = width;
  image.height = height;
  return image;
}

void CheckMaskCoversPhoto(const fs::path& photo, const fs::path& mask, const LabelImage& labels) {
  const std::optional<ImageSize> size = ReadImageFileSize(photo);
  if (size && (size->width != labels.width || size->height != labels.height)) {
    throw FormatError(mask, "", "mask is " + std::to_string(labels.width) + "x" + std::to_string(labels.height) +
                      " but its image " + photo.string() + " is " + std::to_string(size->width) + "x" +
                      std::to_string(size->height));
  }
}

bool IsPhotoFile(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".webp";
}

namespace {

// std::sort by fs::path's own (component-wise) order, ~5x faster: comparing the strings with each
// '/' as '\0' orders the same, since '\0' sorts below every character a name can hold and never
// occurs in one (a directory walk's paths have no empty or dot components).
void SortPaths(std::vector<fs::path>* paths) {
  std::vector<std::pair<std::string, size_t>> keys(paths->size());
  for (size_t i = 0; i < paths->size(); ++i) {
    keys[i] = {(*paths)[i].native(), i};
    std::replace(keys[i].first.begin(), keys[i].first.end(), '/', '\0');
  }
  std::sort(keys.begin(), keys.end());
  std::vector<fs::path> sorted;
  sorted.reserve(paths->size());
  for (const auto& key : keys) sorted.push_back(std::move((*paths)[key.second]));
  *paths = std::move(sorted);
}

}  // namespace

std::vector<fs::path> FilesBelow(const fs::path& dir, const std::function<bool(const fs::path&)>& wanted) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec) && wanted(it->path())) files.push_back(it->path());
  }
  SortPaths(&files);
  return files;
}

}  // namespace segtune
