// `segtune synth`: writes a small synthetic segmentation dataset as a Labelbox export plus JPEG
// images, so a demo (or a test) starts where a real user starts: with a labeling tool's export.
//
// Layout of the output directory:
//   images/<name>.jpg       the photographs (synth_000000.jpg, ...)
//   export.json             Labelbox v1 JSON array (or export.ndjson: Labelbox export v2, one row a line)
//   labels/<name>.png       only with write_label_maps: per-pixel class index (0 = background,
//                           k = classes[k-1]), the exact semantic mask of each image
//   synth.json              what was generated (seed, classes, size, counts)
// Each object's polygon is its full silhouette; objects later in a row's list occlude earlier ones,
// so filling the polygons in order reproduces labels/<name>.png exactly (see synth_scene.h).
// "Labeled Data" / row_data is a file:// URL of the image's absolute path.
//
// A seed gives byte-identical output on every run, whatever the thread count.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace segtune {

enum class SynthExportFormat { kLabelboxV1, kLabelboxNdjson };

struct SynthOptions {
  std::filesystem::path out_dir;
  int images = 100;
  std::vector<std::string> classes{"bottle", "can", "box"};  // Names from synth::KnownShapeNames().
  uint64_t seed = 0;
  int width = 256;
  int height = 256;
  SynthExportFormat format = SynthExportFormat::kLabelboxV1;
  bool write_label_maps = false;
  int jpeg_quality = 90;
  int threads = 1;
  bool overwrite = false;  // Replace out_dir if it holds a previous synth output (synth.json).
};

struct SynthSummary {
  std::filesystem::path export_path;
  int images = 0;
  int objects = 0;
  std::map<std::string, int> objects_per_class;
};

// Generates the dataset into options.out_dir, atomically: it is built in a temporary sibling and
// renamed into place, replacing a previous synth output there only with options.overwrite. Throws
// UsageError for bad options (unknown class, images < 1, size < 32) or if out_dir exists, is not
// empty and is not a previous synth output, or is one and overwrite is off (core/output_guard.h:
// nothing of the user's is ever deleted); IoError if writing fails.
SynthSummary GenerateSynthDataset(const SynthOptions& options);

// Parses "labelbox-v1" / "labelbox-ndjson" (also "v1", "ndjson"). Throws UsageError.
SynthExportFormat ParseSynthExportFormat(const std::string& text);

}  // namespace segtune
