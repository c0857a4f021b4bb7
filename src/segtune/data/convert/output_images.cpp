#include "segtune/data/convert/output_images.h"

#include <fstream>

#include "segtune/core/error.h"
#include "segtune/core/output_guard.h"
#include "segtune/data/convert/image_file_size.h"

namespace segtune {

namespace fs = std::filesystem;

void CheckConvertOutputDirectory(const fs::path& dir, bool overwrite, const std::string& noun) {
  CheckOutputDirectory(dir, overwrite, {"convert", "-o", "segtune convert " + noun, {kConvertMarker}});
}

void WriteConvertMarker(const fs::path& dir, const std::string& format) {
  WriteFileInNewDirectory(dir / kConvertMarker, "Written by segtune convert --to " + format +
                                                    "; segtune convert --overwrite may replace this folder.\n");
}

std::string SplitFolderOf(const LabeledDataset& dataset, const CocoImage& image, const std::string& fallback) {
  const auto it = dataset.subset_of_image.find(image.id.text);
  if (it == dataset.subset_of_image.end() || it->second.empty()) return fallback;
  std::string split = it->second;
  if (split == "valid" || split == "validation") split = "val";
  if (split == "default") split = "train";
  return SanitizeFileName(split, fallback);
}

std::string StemNamer::Name(const std::string& file_name, const fs::path& source, ConversionReport* report) {
  // '\' separates folders in names written on Windows (LabelMe, CVAT): both count.
  const size_t slash = file_name.find_last_of("/\\");
  const std::string base = slash == std::string::npos ? file_name : file_name.substr(slash + 1);
  const std::string where = source.string() + ": image '" + file_name + "'";
  std::string name = namer_.Name(base, where, "image");
  for (int k = 2; stems_.count(fs::path(name).stem().string()); ++k) {
    const fs::path p(name);
    name = namer_.Name(p.stem().string() + "_" + std::to_string(k) + p.extension().string(), where, "image");
  }
  stems_.insert(fs::path(name).stem().string());
  if (name != base) report->Warn(source, "image '" + file_name + "'", "written as '" + name + "'");
  return name;
}

CocoImage PlaceImage(const LabeledDataset& dataset, const CocoImage& image, const fs::path& target,
                     const fs::path& output, ConversionReport* report) {
  CocoImage placed = image;
  const fs::path from = ImageFilePath(dataset, image.file_name);
  std::error_code ec;
  if (!fs::is_regular_file(from, ec)) {
    report->Warn(output, "image '" + image.file_name + "'", "image file not found; its labels are written without it");
    return placed;
  }
  LinkOrCopyFile(from, target);
  if (placed.width <= 0 || placed.height <= 0) {
    const std::optional<ImageSize> size = ReadImageFileSize(from);
    placed.width = size ? size->width : 0;
    placed.height = size ? size->height : 0;
  }
  return placed;
}

void WriteFileInNewDirectory(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw IoError(path, "cannot write");
}

void LinkOrCopyFile(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_hard_link(from, to, ec);
  if (!ec) return;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) throw IoError("convert: cannot link or copy " + from.string() + " to " + to.string() + " (" + ec.message() + ")");
}

}  // namespace segtune
