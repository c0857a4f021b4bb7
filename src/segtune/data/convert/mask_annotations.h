// From a decoded label image (label_image.h) to COCO annotations: what each label value means, one
// annotation per value that is an object, the ignored values as the image's "ignore_mask". Shared by
// the layouts of semantic mask folders (masks_format.cpp, ade20k_masks.cpp). docs/formats.md §17.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "segtune/data/convert/label_image.h"
#include "segtune/data/convert/labeled_dataset.h"

namespace segtune {

// The image field holding the union of ignored pixels (a compressed RLE); the masks writer paints
// it back as 255.
inline constexpr const char* kIgnoreMaskKey = "ignore_mask";

// What one label value stands for.
struct MaskMeaning {
  enum Kind { kBackground, kIgnore, kObject } kind = kBackground;
  int64_t category = 0;
  bool crowd = false;
};
using MaskMeaningFn = std::function<MaskMeaning(int32_t value)>;

// A label image reduced to one RLE per value (RlesByValue): what a reader keeps of each mask while
// many are decoded in parallel, a small fraction of the decoded pixels' memory.
struct MaskRegions {
  int width = 0;
  int height = 0;
  std::map<int32_t, Rle> by_value;
};
MaskRegions RegionsOf(const LabelImage& labels);

// One annotation (RLE mask, bbox, pixel area) per value of `labels` that is an object; the union of
// ignored values as image->extra["ignore_mask"]. `meaning` may throw FormatError for a value that
// means nothing.
void AddMaskAnnotations(const LabelImage& labels, const MaskMeaningFn& meaning, CocoImage* image, CocoDataset* coco);
void AddMaskAnnotations(MaskRegions regions, const MaskMeaningFn& meaning, CocoImage* image, CocoDataset* coco);

// A new image of `dataset` (id = its position + 1) of the label image's size.
CocoImage NewMaskImage(const LabeledDataset& dataset, const std::string& file_name, const LabelImage& labels);
CocoImage NewMaskImage(const LabeledDataset& dataset, const std::string& file_name, int width, int height);

// Throws FormatError naming `mask` when its size differs from the header size of `photo` (a
// missing photo passes: the conversion's missing-image check lists it).
void CheckMaskCoversPhoto(const std::filesystem::path& photo, const std::filesystem::path& mask, const LabelImage& labels);

// A photo by its extension (jpg, jpeg, png, bmp, webp; any case).
bool IsPhotoFile(const std::filesystem::path& path);

// The regular files below `dir` (recursively) for which `wanted` holds, sorted as fs::path compares
// (component by component); an unreadable folder ends the walk (what was found so far is returned).
std::vector<std::filesystem::path> FilesBelow(const std::filesystem::path& dir,
                                              const std::function<bool(const std::filesystem::path&)>& wanted);

}  // namespace segtune
