#include "segtune/data/coco2tfrecord.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/file_presence.h"
#include "segtune/core/log.h"
#include "segtune/core/ordered_pool.h"
#include "segtune/core/output_guard.h"
#include "segtune/core/progress.h"
#include "segtune/core/download.h"
#include "segtune/formats/example_wire.h"
#include "segtune/formats/image_codec.h"
#include "segtune/formats/image_header.h"
#include "segtune/formats/rle.h"
#include "segtune/core/sha256.h"
#include "segtune/formats/shard_set.h"
#include "segtune/formats/tfrecord.h"

namespace segtune {
namespace {

constexpr uint8_t kIgnoreLabel = 255;

// As pycocotools' annToRLE: an RLE as given, else the union of the polygons (RleFromPolygons also
// reads a list whose first part has exactly 4 numbers as boxes, as create_coco_tf_record does).
Rle AnnotationRle(const CocoAnnotation& ann, uint32_t h, uint32_t w) {
  if (ann.segmentation.rle) return *ann.segmentation.rle;
  return RleFromPolygons(ann.segmentation.polygons, h, w);
}

std::string ImageSource(const CocoImage& image) {
  return "image " + (image.id.is_number ? image.id.text : "\"" + image.id.text + "\"") + " (" + image.file_name + ")";
}

// Where the bytes of an image come from: a local file, a URL with --download, or the annotations
// themselves (embedded images). Neither: the file is missing.
struct ImageLocation {
  std::filesystem::path path;
  bool on_disk = false;
  std::string url;
  const std::string* embedded = nullptr;
};

const std::string* Embedded(const CocoImage& image, const CocoToTfRecordOptions& options) {
  if (options.embedded_images == nullptr) return nullptr;
  const auto it = options.embedded_images->find(image.file_name);
  return it == options.embedded_images->end() ? nullptr : &it->second;
}

// Every image's location, with one presence check for all of them: a reader that looked for the
// files says which it did not find (options.missing_image_files), else one listing per folder
// (core/file_presence.h) instead of a stat() per image, which the workers would repeat.
std::vector<ImageLocation> LocateImages(const CocoDataset& coco, const CocoToTfRecordOptions& options) {
  std::vector<ImageLocation> where(coco.images.size());
  std::vector<size_t> local;
  std::vector<std::string> paths;
  for (size_t i = 0; i < coco.images.size(); ++i) {
    const CocoImage& image = coco.images[i];
    if (IsUrl(image.file_name)) {
      where[i].url = image.file_name;
      continue;
    }
    where[i].path = options.images_dir / image.file_name;
    local.push_back(i);
    if (!options.missing_image_files) paths.push_back(where[i].path.native());
  }
  const std::vector<char> present = options.missing_image_files ? std::vector<char>() : RegularFilesAmong(paths);
  for (size_t k = 0; k < local.size(); ++k) {
    const CocoImage& image = coco.images[local[k]];
    ImageLocation& w = where[local[k]];
    w.on_disk = options.missing_image_files ? !options.missing_image_files->count(image.file_name) : present[k] != 0;
    if (w.on_disk) continue;
    w.embedded = Embedded(image, options);
    if (options.download && !w.embedded) w.url = !image.coco_url.empty() ? image.coco_url : image.flickr_url;
  }
  return where;
}

std::string ReadImageBytes(const ImageLocation& where, const DownloadOptions& fetch) {
  if (where.embedded) return *where.embedded;
  return where.url.empty() ? ReadFile(where.path) : FetchUrl(where.url, fetch);
}

void CheckInputs(const CocoDataset& coco, const std::vector<ImageLocation>& locations,
                 const CocoToTfRecordOptions& options) {
  std::vector<std::string> missing;
  for (size_t i = 0; i < coco.images.size(); ++i) {
    const ImageLocation& where = locations[i];
    if (!where.url.empty()) {
      if (!options.download) missing.push_back(coco.images[i].file_name + " (a URL: pass --download)");
      continue;
    }
    if (!where.embedded && !where.on_disk) missing.push_back(where.path.string());
  }
  if (!missing.empty()) {
    std::string message = std::to_string(missing.size()) + " image file(s) missing:";
    for (size_t i = 0; i < std::min<size_t>(missing.size(), 20); ++i) message += "\n  " + missing[i];
    if (missing.size() > 20) message += "\n  ...";
    throw IoError(message);
  }
  if (options.semantic_masks) {
    for (const auto& c : coco.categories) {
      if (c.id < 1 || c.id > 254) {
        throw UsageError("--semantic-masks: category " + std::to_string(c.id) + " (" + c.name +
                         ") does not fit the 8-bit class mask (ids 1..254; 0 = background, 255 = ignore)");
      }
    }
  }
}

}  // namespace

int64_t CocoToTfRecordReport::skipped_total() const {
  int64_t total = 0;
  for (const auto& [reason, n] : skipped) total += n;
  return total;
}

ObjectDetectionExample BuildDetectionExample(const CocoImage& image, std::string encoded,
                                             const std::vector<const CocoAnnotation*>& annotations,
                                             const std::map<int64_t, std::string>& category_names,
                                             const CocoToTfRecordOptions& options,
                                             std::map<std::string, int64_t>* skipped) {
  const std::string source = ImageSource(image);
  ObjectDetectionExample od;
  const ImageFormat format = DetectImageFormat(encoded);
  if (format == ImageFormat::kUnknown) throw FormatError(source + ": not a JPEG, PNG, GIF, BMP or WebP image");
  const auto size = ReadImageSize(encoded);
  if (!size) throw FormatError(source + ": cannot read the image size (corrupt " + ImageFormatName(format) + "?)");
  if ((image.width > 0 && image.width != size->width) || (image.height > 0 && image.height != size->height)) {
    throw FormatError(source + ": COCO says " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                      " but the file is " + std::to_string(size->width) + "x" + std::to_string(size->height));
  }
  const int width = image.width > 0 ? image.width : size->width;
  const int height = image.height > 0 ? image.height : size->height;
  // Masks are painted at this size, and training decodes the image: the same limit as every decoder.
  CheckImagePixels(width, height, source, "", ImageFormatName(format) + " image of");
  od.format = ImageFormatName(format);
  od.sha256 = Sha256Hex(encoded);
  od.encoded = std::move(encoded);
  od.filename = image.file_name;
  od.source_id = image.id.text;
  od.height = height;
  od.width = width;
  od.has_instance_masks = options.include_masks;

  std::vector<uint8_t> semantic(options.semantic_masks ? size_t(width) * height : 0, 0);
  std::vector<uint8_t> pixels;
  for (const CocoAnnotation* ann : annotations) {
    const auto [x, y, w, h] = ann->bbox;
    const char* reason = nullptr;
    if (w <= 0 || h <= 0) reason = "width or height <= 0";
    else if (x + w > width || y + h > height) reason = "box extends past the image";
    else if (!category_names.count(ann->category_id)) reason = "unknown category id";
    if (reason) {
      ++(*skipped)[reason];
      continue;
    }
    od.boxes.push_back({float(y / height), float(x / width), float((y + h) / height), float((x + w) / width)});
    od.class_text.push_back(category_names.at(ann->category_id));
    od.class_label.push_back(ann->category_id);
    od.is_crowd.push_back(ann->iscrowd ? 1 : 0);
    od.area.push_back(float(ann->area));
    if (!options.include_masks && !options.semantic_masks) continue;
    pixels.resize(size_t(width) * height);  // RleDecode writes every pixel.
    if (ann->segmentation.empty()) {
      std::fill(pixels.begin(), pixels.end(), 0);
    } else {
      Rle rle;
      try {
        rle = AnnotationRle(*ann, uint32_t(height), uint32_t(width));
      } catch (const FormatError& e) {  // The rasterizer does not know which annotation it was given.
        throw FormatError(source + ": annotation " + std::to_string(ann->id) + ": segmentation: " + e.what());
      }
      if (rle.h != uint32_t(height) || rle.w != uint32_t(width)) {
        throw FormatError(source + ": annotation " + std::to_string(ann->id) + ": RLE size " + std::to_string(rle.w) +
                          "x" + std::to_string(rle.h) + " differs from the image");
      }
      RleDecode(rle, pixels.data());
    }
    if (options.include_masks) od.instance_masks.push_back(EncodeGrayPng(pixels.data(), height, width));
    if (options.semantic_masks) {
      const uint8_t value = ann->iscrowd ? kIgnoreLabel : uint8_t(ann->category_id);
      for (size_t i = 0; i < pixels.size(); ++i) {
        if (pixels[i]) semantic[i] = value;  // Later annotations paint over earlier ones.
      }
    }
  }
  if (options.semantic_masks) {
    od.semantic_mask = EncodeGrayPng(semantic.data(), height, width);
    od.semantic_mask_format = "png";
  }
  return od;
}

CocoToTfRecordReport ConvertCocoToTfRecord(const CocoDataset& coco, const CocoToTfRecordOptions& options) {
  if (options.shards < 0) throw UsageError("--shards must be >= 1");
  const std::vector<ImageLocation> locations = LocateImages(coco, options);
  CheckInputs(coco, locations, options);
  std::map<int64_t, std::string> names;
  for (const auto& c : coco.categories) names[c.id] = c.name;
  std::unordered_map<std::string, std::vector<const CocoAnnotation*>> by_image;
  for (const auto& ann : coco.annotations) by_image[ann.image_id.text].push_back(&ann);

  // Every file of this output name, whatever the shard count: a rerun with --shards 4 after --shards 2
  // must not leave the 2-shard set beside the new one (a glob would read both).
  std::vector<std::filesystem::path> previous = ExistingShards(options.output);
  if (std::filesystem::exists(std::filesystem::symlink_status(options.output))) previous.emplace_back(options.output);
  for (const auto& p : previous) {
    CheckOutputFile(p, options.overwrite, {"coco2tfrecord", "--output", "TFRecord", {}}, LooksLikeTFRecord);
  }

  CocoToTfRecordReport report;
  const int shard_count = std::max(1, options.shards);
  std::vector<std::unique_ptr<TFRecordWriter>> writers;
  for (int s = 0; s < shard_count; ++s) {
    const std::string path = options.shards > 0 ? ShardPath(options.output, s, shard_count) : options.output;
    writers.push_back(std::make_unique<TFRecordWriter>(path));
    report.outputs.emplace_back(path);
  }

  std::mutex stats_mutex;
  const std::vector<const CocoAnnotation*> none;
  Progress progress("coco2tfrecord", int64_t(coco.images.size()), "img");
  const auto build_record = [&](size_t i) {
    const CocoImage& image = coco.images[i];
    const auto it = by_image.find(image.id.text);
    std::map<std::string, int64_t> skipped;
    const ObjectDetectionExample od = BuildDetectionExample(image, ReadImageBytes(locations[i], options.fetch),
                                                            it == by_image.end() ? none : it->second, names,
                                                            options, &skipped);
    // Serialized and framed here, on the worker: the writer thread only copies bytes to the file.
    std::string record(kTFRecordHeaderBytes, '\0');
    AppendObjectDetectionExampleWire(od, &record);
    FinishTFRecordFrame(&record);
    std::lock_guard<std::mutex> lock(stats_mutex);
    for (const auto& [reason, n] : skipped) report.skipped[reason] += n;
    report.annotations_written += int64_t(od.num_objects());
    return record;
  };
  const auto write_record = [&](size_t i, std::string& record) {
    writers[i % shard_count]->WriteFramed(record);
    progress.Advance();
  };
  // At most 4 records per thread wait to be written, so memory stays bounded whatever the images' sizes.
  const int threads = std::max(1, options.threads);
  ParallelForInOrder<std::string>(coco.images.size(), threads, size_t(threads) * 4, build_record, write_record);
  for (auto& w : writers) w->Close();
  progress.Finish();
  for (const auto& p : previous) {  // Only now that the new set is complete.
    if (std::find(report.outputs.begin(), report.outputs.end(), p) != report.outputs.end()) continue;
    std::error_code ec;
    std::filesystem::remove(p, ec);
    if (ec) throw IoError(p.string() + ": cannot remove this stale output of an earlier run (" + ec.message() + ")");
    Info("coco2tfrecord: removed " + p.string() + " (an earlier run's output, replaced by --overwrite)");
  }
  report.images = int64_t(coco.images.size());
  return report;
}

CocoToTfRecordReport ConvertLabeledDatasetToTfRecord(const LabeledDataset& dataset, CocoToTfRecordOptions options) {
  if (options.images_dir.empty()) options.images_dir = dataset.images_dir;
  if (!dataset.embedded_images.empty()) options.embedded_images = &dataset.embedded_images;
  // The reader's look for the files holds only where it looked: in its own images folder.
  if (dataset.missing_image_files && options.images_dir == dataset.images_dir) {
    options.missing_image_files = &*dataset.missing_image_files;
  }
  return ConvertCocoToTfRecord(dataset.coco, options);
}

}  // namespace segtune
