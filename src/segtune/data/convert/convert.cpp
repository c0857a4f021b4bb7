#include "segtune/data/convert/convert.h"

#include <algorithm>
#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/file_presence.h"
#include "segtune/core/input_limits.h"
#include "segtune/core/safe_name.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

bool IsUrl(const std::string& name) {
  return name.rfind("http://", 0) == 0 || name.rfind("https://", 0) == 0;
}

// Writes the images the input carried inline into images_dir under sanitized names; file_name
// follows the name actually used.
void ExtractEmbeddedImages(LabeledDataset* dataset, const fs::path& images_dir, const fs::path& input,
                           ConversionReport* report) {
  if (dataset->embedded_images.empty()) return;
  SafeNamer namer("convert");
  std::error_code ec;
  for (auto& image : dataset->coco.images) {
    const auto it = dataset->embedded_images.find(image.file_name);
    if (it == dataset->embedded_images.end()) continue;
    const std::string name = namer.Name(image.file_name, input.string() + ": image '" + image.file_name + "'", "image");
    const fs::path target = images_dir / name;
    if (fs::exists(target, ec)) {
      // Same bytes already there (a previous run, or the file the input points at): keep it.
      if (ReadSmallFile(target, it->second.size()) != it->second) {
        throw UsageError("convert: " + target.string() + " exists and differs from the image embedded in " +
                         input.string() + "; choose another --images-dir");
      }
    } else {
      WriteFileAtomic(target, it->second);
      report->written.push_back(target);
    }
    if (name != image.file_name) report->Warn(input, "image '" + image.file_name + "'", "written as '" + name + "'");
    image.file_name = name;
  }
  dataset->images_dir = images_dir;
  dataset->embedded_images.clear();
}

// Lists every missing image file; drops them (and their annotations) with skip_missing, else throws.
void CheckImages(LabeledDataset* dataset, const ConvertOptions& options, ConversionReport* report) {
  const auto& images_in = dataset->coco.images;
  std::vector<char> missing(images_in.size(), 0);
  if (const auto& known = dataset->missing_image_files) {  // The reader already looked.
    for (size_t i = 0; i < images_in.size(); ++i) missing[i] = known->count(images_in[i].file_name) > 0;
  } else {
    std::vector<size_t> on_disk;  // Indices of the images that are files.
    std::vector<std::string> paths;
    for (size_t i = 0; i < images_in.size(); ++i) {
      const std::string& name = images_in[i].file_name;
      if (IsUrl(name) || dataset->embedded_images.count(name)) continue;
      on_disk.push_back(i);
      paths.push_back(ImageFilePathText(*dataset, name));
    }
    const std::vector<char> present = RegularFilesAmong(paths);
    for (size_t k = 0; k < on_disk.size(); ++k) missing[on_disk[k]] = !present[k];
  }
  std::set<std::string> missing_ids;
  for (size_t i = 0; i < images_in.size(); ++i) {
    if (!missing[i]) continue;
    report->missing_images.push_back(images_in[i].file_name);
    missing_ids.insert(images_in[i].id.text);
  }
  if (missing_ids.empty()) return;
  if (!options.skip_missing) {
    std::string list;
    for (const auto& name : report->missing_images) list += "\n  " + ImageFilePath(*dataset, name).string();
    throw UsageError("convert: " + std::to_string(report->missing_images.size()) + " image file(s) that " +
                     options.input.string() + " references are missing (pass --images-dir with their folder, or " +
                     "--skip-missing to convert without them):" + list);
  }
  auto& images = dataset->coco.images;
  images.erase(std::remove_if(images.begin(), images.end(),
                              [&](const CocoImage& i) { return missing_ids.count(i.id.text) > 0; }),
               images.end());
  auto& annotations = dataset->coco.annotations;
  annotations.erase(std::remove_if(annotations.begin(), annotations.end(),
                                   [&](const CocoAnnotation& a) { return missing_ids.count(a.image_id.text) > 0; }),
                    annotations.end());
  report->skipped_images = static_cast<int>(missing_ids.size());
}

// Writers draw masks at the image's size (VOC and mask PNGs, traced polygons): a declared size above
// the decode limit would make them allocate without bound, so it stops the conversion first.
void CheckImageSizes(const LabeledDataset& dataset, const ConvertOptions& options) {
  const int64_t max_pixels = GetInputLimits().max_image_pixels;
  for (const auto& image : dataset.coco.images) {
    if (int64_t(image.width) * int64_t(image.height) > max_pixels) {
      throw FormatError(options.input, "image '" + image.file_name + "'",
                        "declared size " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                            " has more than " + std::to_string(max_pixels) +
                            " pixels (the --max-pixels limit; raise it for larger images)");
    }
  }
}

}  // namespace

LabeledDataset ReadAnnotations(const fs::path& input, const std::string& from, const ReadOptions& options,
                               ConversionReport* report) {
  std::error_code ec;
  if (!fs::exists(input, ec)) throw UsageError("convert: " + input.string() + ": no such file or directory");
  const AnnotationFormat& format = from == "auto" ? DetectAnnotationFormat(input) : FindAnnotationFormat(from);
  if (!format.read) throw UsageError("convert: format '" + format.name + "' can be written, not read");
  report->from = format.name;
  return format.read(input, options, report);
}

namespace {

void WriteDataset(LabeledDataset& dataset, const ConvertOptions& options, ConversionReport* report) {
  const AnnotationFormat& format = FindAnnotationFormat(options.to);
  if (!format.write) throw UsageError("convert: format '" + format.name + "' can be read, not written");
  report->to = format.name;
  if (!options.images_dir.empty()) {
    ExtractEmbeddedImages(&dataset, options.images_dir, options.input, report);
  } else {
    // Embedded images whose file is already beside the input need no extraction.
    for (auto it = dataset.embedded_images.begin(); it != dataset.embedded_images.end();) {
      std::error_code ec;
      it = fs::is_regular_file(ImageFilePath(dataset, it->first), ec) ? dataset.embedded_images.erase(it) : std::next(it);
    }
    if (!dataset.embedded_images.empty()) {
      report->Warn(options.input, "", std::to_string(dataset.embedded_images.size()) +
                                          " image(s) exist only inside the input (e.g. LabelMe imageData); "
                                          "pass --images-dir to write them out");
      dataset.embedded_images.clear();
    }
  }
  if (options.check_images) CheckImages(&dataset, options, report);
  CheckImageSizes(dataset, options);
  format.write(dataset, options.output, options.write, report);
  report->images = static_cast<int>(dataset.coco.images.size());
  report->annotations = static_cast<int>(dataset.coco.annotations.size());
  report->categories = static_cast<int>(dataset.coco.categories.size());
}

}  // namespace

void WriteAnnotations(LabeledDataset dataset, const ConvertOptions& options, ConversionReport* report) {
  WriteDataset(dataset, options, report);
}

ConversionReport ConvertAnnotations(const ConvertOptions& options, LabeledDataset* converted) {
  ConversionReport report;
  FindAnnotationFormat(options.to);  // An unknown --to fails before reading a large input.
  ReadOptions read;
  read.images_dir = options.images_dir;
  read.reference = options.reference;
  LabeledDataset dataset = ReadAnnotations(options.input, options.from, read, &report);
  WriteDataset(dataset, options, &report);
  if (converted) *converted = std::move(dataset);
  return report;
}

}  // namespace segtune
