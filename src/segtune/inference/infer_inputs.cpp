#include "segtune/inference/infer_inputs.h"

#include <algorithm>
#include <cctype>
#include <fstream>

#include "segtune/core/error.h"
#include "segtune/formats/tfrecord.h"

namespace segtune {

bool IsImagePath(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".webp" || ext == ".tif" ||
         ext == ".tiff";
}

namespace {

std::vector<std::filesystem::path> ImagesInDirectory(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> images;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && IsImagePath(entry.path())) images.push_back(entry.path());
  }
  std::sort(images.begin(), images.end());
  return images;
}

std::vector<std::filesystem::path> ImagesInList(const std::filesystem::path& list) {
  std::ifstream in(list);
  if (!in) throw IoError(list, "cannot read the image list");
  std::vector<std::filesystem::path> images;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    std::filesystem::path p = line.substr(start);
    images.push_back(p.is_absolute() ? p : list.parent_path() / p);
  }
  return images;
}

}  // namespace

InferenceInputs::InferenceInputs(const std::vector<std::string>& specs, bool skip_corrupt_records)
    : skip_corrupt_records_(skip_corrupt_records) {
  bool any_record = false;
  for (const std::string& spec : specs) {
    const std::filesystem::path path(spec);
    std::vector<std::filesystem::path> images;
    if (std::filesystem::is_directory(path)) {
      images = ImagesInDirectory(path);
      if (images.empty()) throw IoError(spec + ": no image files (.jpg, .png, ...) in this directory");
    } else if (path.extension() == ".txt" && std::filesystem::is_regular_file(path)) {
      images = ImagesInList(path);
    } else if (IsImagePath(path) && std::filesystem::is_regular_file(path)) {
      images = {path};
    } else {
      for (const auto& record_path : ExpandInputPaths(spec)) sources_.push_back({true, record_path});
      any_record = true;
      continue;
    }
    for (auto& image : images) sources_.push_back({false, std::move(image)});
    known_total_ += static_cast<int64_t>(images.size());
  }
  if (any_record) known_total_ = -1;
}

InferenceInputs::~InferenceInputs() = default;

bool InferenceInputs::Next(InferenceItem* item) {
  while (true) {
    if (reader_) {
      std::string record;
      if (reader_->Next(&record)) {
        item->from_record = true;
        item->record = std::move(record);
        item->image_path.clear();
        item->source = reader_->path().filename().string() + ": record " + std::to_string(reader_->record_index());
        item->index = next_index_++;
        return true;
      }
      for (const auto& p : reader_->problems()) finished_problems_.push_back(p);
      reader_.reset();
    }
    if (next_source_ >= sources_.size()) return false;
    const Source& source = sources_[next_source_++];
    if (source.is_record) {
      TFRecordReaderOptions options;
      options.skip_corrupt = skip_corrupt_records_;
      reader_ = std::make_unique<TFRecordReader>(source.path, options);
      continue;
    }
    item->from_record = false;
    item->record.clear();
    item->image_path = source.path;
    item->source = source.path.string();
    item->index = next_index_++;
    return true;
  }
}

std::vector<std::string> InferenceInputs::problems() const {
  std::vector<std::string> all = finished_problems_;
  if (reader_) all.insert(all.end(), reader_->problems().begin(), reader_->problems().end());
  return all;
}

}  // namespace segtune
