#include "segtune/data/convert/prediction_reference.h"

#include <map>
#include <set>

#include "segtune/core/error.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

std::string IdText(const ImageId& id) { return id.is_number ? id.text : "'" + id.text + "'"; }

std::map<int64_t, const CocoCategory*> CategoriesById(const CocoDataset& reference) {
  std::map<int64_t, const CocoCategory*> by_id;
  for (const auto& c : reference.categories) by_id[c.id] = &c;
  return by_id;
}

// Results carry no area when they come from other tools; COCO evaluation and the writers want one.
void FillArea(CocoAnnotation* a) {
  if (a->area > 0) return;
  a->area = a->segmentation.rle ? static_cast<double>(RleArea(*a->segmentation.rle)) : a->bbox[2] * a->bbox[3];
}

}  // namespace

LabeledDataset PredictionsOnReference(std::vector<CocoAnnotation> results, const CocoDataset& reference,
                                      const fs::path& results_file, const fs::path& reference_file) {
  LabeledDataset dataset;
  dataset.coco.info = reference.info;
  dataset.coco.licenses = reference.licenses;
  dataset.coco.images = reference.images;
  dataset.coco.categories = reference.categories;
  std::set<std::string> image_ids;
  for (const auto& image : reference.images) image_ids.insert(image.id.text);
  const auto categories = CategoriesById(reference);
  for (size_t i = 0; i < results.size(); ++i) {
    CocoAnnotation& a = results[i];
    const std::string where = results_file.string() + ": results[" + std::to_string(i) + "]";
    if (!image_ids.count(a.image_id.text)) {
      throw FormatError(where + ": image_id " + IdText(a.image_id) + " is not an image of " + reference_file.string() +
                        " (expected the dataset the predictions were made on as --reference)");
    }
    if (!categories.count(a.category_id)) {
      throw FormatError(where + ": category_id " + std::to_string(a.category_id) + " is not a category of " +
                        reference_file.string());
    }
    a.id = static_cast<int64_t>(i + 1);
    FillArea(&a);
    dataset.coco.annotations.push_back(std::move(a));
  }
  return dataset;
}

void ApplyReference(LabeledDataset* predictions, const CocoDataset& reference, const fs::path& input,
                    const fs::path& reference_file, ConversionReport* report) {
  std::map<std::string, const CocoImage*> by_id, by_name;
  for (const auto& image : reference.images) {
    by_id[image.id.text] = &image;
    by_name.emplace(fs::path(image.file_name).filename().string(), &image);
  }
  std::map<std::string, ImageId> renamed;  // Prediction image id -> reference id (matched by name).
  for (auto& image : predictions->coco.images) {
    const CocoImage* found = nullptr;
    if (const auto it = by_id.find(image.id.text); it != by_id.end()) {
      found = it->second;
    } else if (const auto n = by_name.find(fs::path(image.file_name).filename().string()); n != by_name.end()) {
      found = n->second;
    }
    if (found == nullptr) {
      report->Warn(input, "image " + IdText(image.id) + " ('" + image.file_name + "')",
                   "not in " + reference_file.string() + "; kept without its reference data");
      continue;
    }
    const CocoImage& ref = *found;
    if (ref.id != image.id) renamed[image.id.text] = ref.id;
    image.id = ref.id;
    if (ref.file_name != image.file_name) {  // The reference's name, where its images are.
      const auto bytes = predictions->embedded_images.find(image.file_name);
      if (bytes != predictions->embedded_images.end()) {
        predictions->embedded_images[ref.file_name] = std::move(bytes->second);
        predictions->embedded_images.erase(image.file_name);
      }
      image.file_name = ref.file_name;
    }
    image.extra = ref.extra;
    image.coco_url = ref.coco_url;
    image.flickr_url = ref.flickr_url;
    if (ref.width > 0) image.width = ref.width, image.height = ref.height;
  }
  const auto categories = CategoriesById(reference);
  for (auto& a : predictions->coco.annotations) {
    const auto r = renamed.find(a.image_id.text);
    if (r != renamed.end()) a.image_id = r->second;
    if (!categories.count(a.category_id)) {
      throw FormatError(input.string() + ": image " + IdText(a.image_id) + ": label " + std::to_string(a.category_id) +
                        " is not a category id of " + reference_file.string() +
                        " (expected the dataset the model was trained on)");
    }
  }
  predictions->coco.categories = reference.categories;
  if (predictions->images_dir.empty()) predictions->images_dir = reference_file.parent_path();
}

}  // namespace segtune
