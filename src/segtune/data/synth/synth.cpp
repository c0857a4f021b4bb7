#include "segtune/data/synth/synth.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <exception>
#include <fstream>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <thread>

#include "segtune/core/atomic_file.h"
#include "segtune/core/output_guard.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/progress.h"
#include "segtune/data/opencv_codecs.h"
#include "segtune/data/synth/synth_labelbox.h"
#include "segtune/data/synth/synth_scene.h"

namespace fs = std::filesystem;

namespace segtune {
namespace {

constexpr const char* kManifest = "synth.json";

std::string ImageName(int index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "synth_%06d", index);
  return buf;
}

std::vector<synth::ShapeKind> CheckOptions(const SynthOptions& o) {
  if (o.out_dir.empty()) throw UsageError("synth: --out is required");
  if (o.images < 1) throw UsageError("synth: --num-images must be at least 1 (got " + std::to_string(o.images) + ")");
  if (o.width < 32 || o.height < 32 || o.width > 8192 || o.height > 8192) {
    throw UsageError("synth: --size " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                     ": each side must be between 32 and 8192 pixels");
  }
  if (o.jpeg_quality < 1 || o.jpeg_quality > 100) throw UsageError("synth: JPEG quality must be 1..100");
  if (o.classes.empty()) throw UsageError("synth: --classes needs at least one class");
  std::vector<synth::ShapeKind> kinds;
  std::set<std::string> seen;
  for (const auto& name : o.classes) {
    if (!seen.insert(name).second) throw UsageError("synth: class '" + name + "' is listed twice in --classes");
    kinds.push_back(synth::ShapeKindFromName(name));
  }
  return kinds;
}

void WriteBytes(const fs::path& path, const std::vector<uchar>& bytes) {
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  out.close();
  if (!out) throw IoError(path, "cannot write");
}

// Renders and writes images [0, n) on `threads` threads; returns each image's objects.
std::vector<std::vector<synth::SceneObject>> RenderImages(const SynthOptions& o, const std::vector<synth::ShapeKind>& kinds,
                                                          const fs::path& root) {
  std::vector<std::vector<synth::SceneObject>> objects(size_t(o.images));
  std::atomic<int> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  Progress progress("synth", o.images, "img");
  auto work = [&] {
    for (int i = next++; i < o.images; i = next++) {
      try {
        const synth::Scene scene = synth::RenderScene(kinds, {o.width, o.height}, o.seed, uint64_t(i));
        std::vector<uchar> bytes;
        EncodeWithOpenCv(".jpg", scene.image, &bytes, {cv::IMWRITE_JPEG_QUALITY, o.jpeg_quality});
        WriteBytes(root / "images" / (ImageName(i) + ".jpg"), bytes);
        if (o.write_label_maps) {
          EncodeWithOpenCv(".png", scene.labels, &bytes);
          WriteBytes(root / "labels" / (ImageName(i) + ".png"), bytes);
        }
        objects[size_t(i)] = scene.objects;
        progress.Advance();
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = o.images;  // Stop the other workers.
      }
    }
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < std::clamp(o.threads, 1, o.images); ++t) workers.emplace_back(work);
  work();
  for (auto& w : workers) w.join();
  if (failure) std::rethrow_exception(failure);
  progress.Finish();
  return objects;
}

std::string ExportText(const SynthOptions& o, const fs::path& final_dir,
                       const std::vector<std::vector<synth::SceneObject>>& objects) {
  const synth::LabelboxOntology ontology = synth::MakeOntology(o.classes, o.seed);
  std::string text = o.format == SynthExportFormat::kLabelboxV1 ? "[" : "";
  for (int i = 0; i < o.images; ++i) {
    synth::LabelboxImage image;
    image.index = uint64_t(i);
    image.external_id = ImageName(i) + ".jpg";
    image.url = synth::FileUrl((final_dir / "images" / image.external_id).string());
    image.width = o.width;
    image.height = o.height;
    if (o.format == SynthExportFormat::kLabelboxV1) {
      text += (i ? ",\n" : "\n") + synth::LabelboxV1Row(ontology, image, objects[size_t(i)], o.seed).dump();
    } else {
      text += synth::LabelboxNdjsonRow(ontology, image, objects[size_t(i)], o.seed).dump() + "\n";
    }
  }
  if (o.format == SynthExportFormat::kLabelboxV1) text += "\n]\n";
  return text;
}

}  // namespace

SynthSummary GenerateSynthDataset(const SynthOptions& options) {
  const std::vector<synth::ShapeKind> kinds = CheckOptions(options);
  fs::path final_dir = fs::absolute(options.out_dir).lexically_normal();
  if (final_dir.filename().empty()) final_dir = final_dir.parent_path();  // "out/" -> "out".
  CheckOutputDirectory(final_dir, options.overwrite, {"synth", "--out", "segtune synth", {kManifest}});

  AtomicDirectory dir(final_dir);
  fs::create_directories(dir.temp_path() / "images");
  if (options.write_label_maps) fs::create_directories(dir.temp_path() / "labels");
  const auto objects = RenderImages(options, kinds, dir.temp_path());

  SynthSummary summary;
  summary.images = options.images;
  for (const auto& name : options.classes) summary.objects_per_class[name] = 0;
  for (const auto& list : objects) {
    for (const auto& o : list) ++summary.objects_per_class[options.classes[size_t(o.class_index)]];
    summary.objects += int(list.size());
  }
  const std::string export_name = options.format == SynthExportFormat::kLabelboxV1 ? "export.json" : "export.ndjson";
  WriteFileAtomic(dir.temp_path() / export_name, ExportText(options, final_dir, objects));

  nlohmann::ordered_json manifest;
  manifest["generator"] = "segtune synth";
  manifest["segtune_version"] = SEGTUNE_VERSION;
  manifest["seed"] = options.seed;
  manifest["images"] = options.images;
  manifest["width"] = options.width;
  manifest["height"] = options.height;
  manifest["classes"] = options.classes;
  manifest["format"] = options.format == SynthExportFormat::kLabelboxV1 ? "labelbox-v1" : "labelbox-ndjson";
  manifest["export"] = export_name;
  manifest["label_maps"] = options.write_label_maps ? nlohmann::ordered_json("labels") : nlohmann::ordered_json(nullptr);
  manifest["objects"] = summary.objects;
  manifest["objects_per_class"] = summary.objects_per_class;
  WriteFileAtomic(dir.temp_path() / kManifest, manifest.dump(2) + "\n");
  dir.Commit();
  summary.export_path = final_dir / export_name;
  return summary;
}

SynthExportFormat ParseSynthExportFormat(const std::string& text) {
  if (text == "labelbox-v1" || text == "v1") return SynthExportFormat::kLabelboxV1;
  if (text == "labelbox-ndjson" || text == "ndjson") return SynthExportFormat::kLabelboxNdjson;
  throw UsageError("--format " + text + ": expected labelbox-v1 or labelbox-ndjson");
}

}  // namespace segtune
