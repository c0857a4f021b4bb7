#include "segtune/data/convert/labeled_dataset.h"

namespace segtune {

std::filesystem::path ImageFilePath(const LabeledDataset& dataset, const std::string& file_name) {
  return ImageFilePathText(dataset, file_name);
}

std::string ImageFilePathText(const LabeledDataset& dataset, const std::string& file_name) {
  const std::string& dir = dataset.images_dir.native();
  if (dir.empty() || (!file_name.empty() && file_name[0] == '/')) return file_name;
  return dir.back() == '/' ? dir + file_name : dir + '/' + file_name;
}

std::string ConversionWarning::ToString() const {
  std::string s = file;
  if (!element.empty()) s += (s.empty() ? "" : ": ") + element;
  return s + (s.empty() ? "" : ": ") + message;
}

void ConversionReport::Warn(const std::filesystem::path& file, std::string element, std::string message) {
  warnings.push_back({file.string(), std::move(element), std::move(message)});
}

}  // namespace segtune
