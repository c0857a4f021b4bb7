#include "segtune/data/validate.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <optional>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"
#include "segtune/core/progress.h"
#include "segtune/core/download.h"
#include "segtune/data/image_decode.h"
#include "segtune/formats/rle.h"
#include "segtune/formats/wkt.h"

namespace fs = std::filesystem;

namespace segtune {
namespace {

using Box = std::array<double, 4>;
constexpr double kBoxIouThreshold = 0.9;
constexpr double kEdgeTolerance = 1e-3;  // Pixels; float round-off at the image edge is not a problem.

std::string Num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
std::string BoxText(const Box& b) { return "[" + Num(b[0]) + ", " + Num(b[1]) + ", " + Num(b[2]) + ", " + Num(b[3]) + "]"; }

std::string AnnotationName(size_t index, const CocoAnnotation& a) {
  return "annotations[" + std::to_string(index) + "] (id " + std::to_string(a.id) + ", image " + a.image_id.text + ")";
}

double BoxIou(const Box& a, const Box& b) {
  const double ix = std::max(0.0, std::min(a[0] + a[2], b[0] + b[2]) - std::max(a[0], b[0]));
  const double iy = std::max(0.0, std::min(a[1] + a[3], b[1] + b[3]) - std::max(a[1], b[1]));
  const double inter = ix * iy, uni = a[2] * a[3] + b[2] * b[3] - inter;
  return uni > 0 ? inter / uni : 0;
}

bool PartIsDegenerate(const std::vector<double>& part) {
  return part.size() < 6 || std::abs(ShoelaceArea(part)) <= 0;
}

// Bounds of the segmentation, or nullopt when it is empty.
std::optional<Box> SegmentationBounds(const Segmentation& s) {
  if (s.rle) {
    if (RleArea(*s.rle) == 0) return std::nullopt;
    return RleToBbox(*s.rle);
  }
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  for (const auto& p : s.polygons)
    for (size_t i = 0; i + 1 < p.size(); i += 2) {
      x0 = std::min(x0, p[i]), x1 = std::max(x1, p[i]);
      y0 = std::min(y0, p[i + 1]), y1 = std::max(y1, p[i + 1]);
    }
  if (x0 > x1) return std::nullopt;
  return Box{x0, y0, x1 - x0, y1 - y0};
}

struct ImageFileInfo {
  bool exists = false, readable = false;
  int width = 0, height = 0;
  fs::path path;
};

// Opens every local image, in parallel.
std::vector<ImageFileInfo> ReadImageFiles(const std::vector<CocoImage>& images, const fs::path& dir) {
  std::vector<ImageFileInfo> info(images.size());
  Progress progress("validate images", (long long)images.size(), "img");
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < images.size();) {
      const std::string& name = images[i].file_name;
      if (!IsUrl(name)) {
        ImageFileInfo& f = info[i];
        f.path = fs::path(name).is_absolute() ? fs::path(name) : dir / name;
        std::error_code ec;
        f.exists = fs::is_regular_file(f.path, ec);
        if (f.exists) {
          try {  // Header checked (format, --max-pixels) before decoding.
            const cv::Mat m = DecodeImageFile(f.path, cv::IMREAD_UNCHANGED);
            f.readable = true;
            f.width = m.cols, f.height = m.rows;
          } catch (const Error& e) {
            Warn(e.what());
          }
        }
      }
      progress.Advance();
    }
  };
  const unsigned n = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < n; ++t) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  progress.Finish();
  return info;
}

class Validator {
 public:
  Validator(const CocoDataset& d, int max_examples) : d_(d), max_examples_(max_examples) {}

  ValidationReport Run(const fs::path& images_dir) {
    CheckDuplicates();
    for (size_t i = 0; i < d_.images.size(); ++i) image_index_.emplace(d_.images[i].id.text, i);
    for (const auto& c : d_.categories) categories_.insert(c.id);
    for (size_t i = 0; i < d_.annotations.size(); ++i) CheckAnnotation(i);
    if (!images_dir.empty()) CheckImageFiles(images_dir);
    return std::move(report_);
  }

 private:
  void Add(CocoProblem p, const std::string& example) {
    ProblemFindings& f = report_.findings[p];
    ++f.count;
    if (int(f.examples.size()) < max_examples_) f.examples.push_back(example);
  }

  void CheckDuplicates() {
    std::set<std::string> images;
    for (size_t i = 0; i < d_.images.size(); ++i)
      if (!images.insert(d_.images[i].id.text).second)
        Add(CocoProblem::kDuplicateImageId, "images[" + std::to_string(i) + "] id " + d_.images[i].id.text);
    std::set<int64_t> cats, anns;
    for (size_t i = 0; i < d_.categories.size(); ++i)
      if (!cats.insert(d_.categories[i].id).second)
        Add(CocoProblem::kDuplicateCategoryId, "categories[" + std::to_string(i) + "] id " + std::to_string(d_.categories[i].id));
    for (size_t i = 0; i < d_.annotations.size(); ++i)
      if (!anns.insert(d_.annotations[i].id).second)
        Add(CocoProblem::kDuplicateAnnotationId, "annotations[" + std::to_string(i) + "] id " + std::to_string(d_.annotations[i].id));
  }

  void CheckAnnotation(size_t index) {
    const CocoAnnotation& a = d_.annotations[index];
    const std::string name = AnnotationName(index, a);
    if (!categories_.count(a.category_id))
      Add(CocoProblem::kUnknownCategory, name + ": category_id " + std::to_string(a.category_id));
    auto it = image_index_.find(a.image_id.text);
    if (it == image_index_.end()) return Add(CocoProblem::kUnknownImage, name);
    const CocoImage& image = d_.images[it->second];

    bool degenerate = a.bbox[2] <= 0 || a.bbox[3] <= 0;
    for (const auto& part : a.segmentation.polygons) degenerate |= PartIsDegenerate(part);
    if (a.segmentation.rle && RleArea(*a.segmentation.rle) == 0) degenerate = true;
    if (degenerate) Add(CocoProblem::kDegenerateGeometry, name + ": bbox " + BoxText(a.bbox));

    const double W = image.width, H = image.height;
    if (W > 0 && H > 0) CheckBounds(a, name, W, H);
    const auto seg = SegmentationBounds(a.segmentation);
    if (!seg || degenerate) return;
    if (BoxIou(a.bbox, *seg) >= kBoxIouThreshold) return;
    const Box flipped{a.bbox[0], H - a.bbox[1] - a.bbox[3], a.bbox[2], a.bbox[3]};
    if (H > 0 && BoxIou(flipped, *seg) >= kBoxIouThreshold) {
      Add(CocoProblem::kYFlippedBbox, name + ": bbox " + BoxText(a.bbox) + " is the segmentation's " + BoxText(*seg) +
                                          " mirrored (y' = H - y - h, H = " + Num(H) + ")");
    } else {
      Add(CocoProblem::kBboxMismatch, name + ": bbox " + BoxText(a.bbox) + " vs segmentation bounds " + BoxText(*seg) +
                                          " (IoU " + Num(BoxIou(a.bbox, *seg)) + ")");
    }
  }

  void CheckBounds(const CocoAnnotation& a, const std::string& name, double W, double H) {
    const auto& b = a.bbox;
    const double t = kEdgeTolerance;
    bool out = b[0] < -t || b[1] < -t || b[0] + b[2] > W + t || b[1] + b[3] > H + t;
    for (const auto& p : a.segmentation.polygons)
      for (size_t i = 0; i + 1 < p.size(); i += 2)
        out |= p[i] < -t || p[i] > W + t || p[i + 1] < -t || p[i + 1] > H + t;
    if (a.segmentation.rle && (a.segmentation.rle->w != uint32_t(W) || a.segmentation.rle->h != uint32_t(H))) {
      return Add(CocoProblem::kOutOfBounds, name + ": RLE is " + std::to_string(a.segmentation.rle->w) + "x" +
                                                std::to_string(a.segmentation.rle->h) + ", image is " + Num(W) + "x" + Num(H));
    }
    if (out) Add(CocoProblem::kOutOfBounds, name + ": bbox " + BoxText(b) + " / polygon beyond " + Num(W) + "x" + Num(H));
  }

  void CheckImageFiles(const fs::path& dir) {
    report_.images_checked = true;
    const auto files = ReadImageFiles(d_.images, dir);
    for (size_t i = 0; i < files.size(); ++i) {
      const CocoImage& image = d_.images[i];
      const ImageFileInfo& f = files[i];
      if (f.path.empty()) continue;  // A URL.
      const std::string name = "images[" + std::to_string(i) + "] (id " + image.id.text + ") " + f.path.string();
      if (!f.exists) Add(CocoProblem::kMissingImage, name);
      else if (!f.readable) Add(CocoProblem::kUnreadableImage, name);
      else if (f.width != image.width || f.height != image.height)
        Add(CocoProblem::kImageSizeMismatch, name + ": file is " + std::to_string(f.width) + "x" + std::to_string(f.height) +
                                                 ", JSON says " + std::to_string(image.width) + "x" + std::to_string(image.height));
    }
  }

  const CocoDataset& d_;
  int max_examples_;
  ValidationReport report_;
  std::map<std::string, size_t> image_index_;
  std::set<int64_t> categories_;
};

// Clips a polygon's vertices to the image; returns true if any moved.
bool ClipPolygon(std::vector<double>* p, double W, double H) {
  bool moved = false;
  for (size_t i = 0; i + 1 < p->size(); i += 2) {
    const double x = std::clamp((*p)[i], 0.0, W), y = std::clamp((*p)[i + 1], 0.0, H);
    moved |= x != (*p)[i] || y != (*p)[i + 1];
    (*p)[i] = x, (*p)[i + 1] = y;
  }
  return moved;
}

Box ClipBox(const Box& b, double W, double H) {
  const double x0 = std::clamp(b[0], 0.0, W), y0 = std::clamp(b[1], 0.0, H);
  const double x1 = std::clamp(b[0] + b[2], 0.0, W), y1 = std::clamp(b[1] + b[3], 0.0, H);
  return {x0, y0, x1 - x0, y1 - y0};
}

// Counts of each kind of change made by FixCoco.
struct FixCounts {
  std::map<std::string, int> n;
  void Note(const std::string& what, int k = 1) { n[what] += k; }
};

// Fixes one annotation in place; returns false if it has to be dropped.
bool FixAnnotation(CocoAnnotation* a, const CocoImage& image, FixCounts* counts) {
  const double W = image.width, H = image.height;
  const bool size_known = W > 0 && H > 0;
  bool geometry_changed = false;
  if (a->segmentation.rle && size_known &&
      (a->segmentation.rle->w != uint32_t(W) || a->segmentation.rle->h != uint32_t(H))) {
    counts->Note("annotations dropped: RLE size differs from the image");
    return false;
  }
  auto& parts = a->segmentation.polygons;
  for (auto& p : parts)
    if (size_known && ClipPolygon(&p, W, H)) {
      geometry_changed = true;
      counts->Note("polygons clipped to the image");
    }
  const size_t before = parts.size();
  parts.erase(std::remove_if(parts.begin(), parts.end(), PartIsDegenerate), parts.end());
  if (parts.size() != before) {
    geometry_changed = true;
    counts->Note("degenerate polygon parts removed", int(before - parts.size()));
  }
  const bool had_polygons = before > 0;
  if ((had_polygons && parts.empty() && !a->segmentation.rle) ||
      (a->segmentation.rle && RleArea(*a->segmentation.rle) == 0)) {
    counts->Note("annotations dropped: no valid geometry left");
    return false;
  }
  Box box = a->bbox;
  if (auto seg = SegmentationBounds(a->segmentation)) box = *seg;
  if (size_known) box = ClipBox(box, W, H);
  if (box[2] <= 0 || box[3] <= 0) {
    counts->Note("annotations dropped: empty box");
    return false;
  }
  if (box != a->bbox) {
    a->bbox = box;
    counts->Note("bboxes recomputed from the segmentation (or clipped)");
  }
  if (geometry_changed) {
    if (size_known) a->area = double(RleArea(RleFromPolygons(parts, uint32_t(H), uint32_t(W))));
    else {
      a->area = 0;
      for (const auto& p : parts) a->area += std::abs(ShoelaceArea(p));
    }
    if (a->segmentation.empty()) a->area = box[2] * box[3];
  }
  return true;
}

}  // namespace

std::string DescribeProblem(CocoProblem problem) {
  switch (problem) {
    case CocoProblem::kDuplicateImageId: return "duplicate image ids";
    case CocoProblem::kDuplicateCategoryId: return "duplicate category ids";
    case CocoProblem::kDuplicateAnnotationId: return "duplicate annotation ids";
    case CocoProblem::kUnknownImage: return "annotations on unknown images";
    case CocoProblem::kUnknownCategory: return "annotations with unknown category ids";
    case CocoProblem::kDegenerateGeometry: return "degenerate geometry (polygon < 3 points or zero area, empty box)";
    case CocoProblem::kOutOfBounds: return "annotations out of image bounds";
    case CocoProblem::kBboxMismatch: return "bboxes inconsistent with their segmentation (IoU < 0.9)";
    case CocoProblem::kYFlippedBbox: return "y-flipped bboxes (old Labelbox COCO export: y' = H - y - h)";
    case CocoProblem::kMissingImage: return "missing image files";
    case CocoProblem::kUnreadableImage: return "unreadable image files";
    case CocoProblem::kImageSizeMismatch: return "width/height disagreeing with the image file";
  }
  return "unknown problem";
}

int ValidationReport::total() const {
  int n = 0;
  for (const auto& [kind, f] : findings) n += f.count;
  return n;
}

ValidationReport ValidateCoco(const CocoDataset& dataset, const fs::path& images_dir, int max_examples) {
  return Validator(dataset, max_examples).Run(images_dir);
}

CocoDataset FixCoco(const CocoDataset& dataset, const fs::path& images_dir, std::vector<std::string>* changes) {
  FixCounts counts;
  CocoDataset out;
  out.info = dataset.info;
  out.licenses = dataset.licenses;
  std::set<int64_t> cats;
  for (const auto& c : dataset.categories) {
    if (cats.insert(c.id).second) out.categories.push_back(c);
    else counts.Note("duplicate category entries dropped (first kept)");
  }
  std::map<std::string, size_t> image_index;
  for (const auto& image : dataset.images) {
    if (!image_index.emplace(image.id.text, out.images.size()).second) {
      counts.Note("duplicate image entries dropped (first kept)");
      continue;
    }
    out.images.push_back(image);
  }
  if (!images_dir.empty()) {
    const auto files = ReadImageFiles(out.images, images_dir);
    for (size_t i = 0; i < files.size(); ++i)
      if (files[i].readable && (files[i].width != out.images[i].width || files[i].height != out.images[i].height)) {
        out.images[i].width = files[i].width;
        out.images[i].height = files[i].height;
        counts.Note("image width/height taken from the file");
      }
  }
  int64_t next_id = 1;
  for (const auto& a : dataset.annotations) next_id = std::max(next_id, a.id + 1);
  std::set<int64_t> ann_ids;
  for (CocoAnnotation a : dataset.annotations) {
    auto it = image_index.find(a.image_id.text);
    if (it == image_index.end()) {
      counts.Note("annotations dropped: unknown image");
      continue;
    }
    if (!cats.count(a.category_id)) {
      counts.Note("annotations dropped: unknown category");
      continue;
    }
    if (!FixAnnotation(&a, out.images[it->second], &counts)) continue;
    if (!ann_ids.insert(a.id).second) {
      a.id = next_id++;
      ann_ids.insert(a.id);
      counts.Note("duplicate annotation ids renumbered");
    }
    out.annotations.push_back(std::move(a));
  }
  for (const auto& [what, n] : counts.n) changes->push_back(what + ": " + WithCommas(n));
  return out;
}

// Fixing in place is a reasonable request, but it destroys the original: only with --overwrite, and
// said plainly rather than as "a previous output". The input is read in full before the fixed copy
// replaces it atomically. An input of another format is never replaced by COCO JSON.
void CheckValidateOutput(const ValidateOptions& options) {
  if (!options.fix) return;
  if (options.output.empty()) throw UsageError("validate: --fix needs -o/--output FILE");
  std::error_code ec;  // A symlink to the input is an output CheckOutputFile refuses, like any symlink.
  if (!std::filesystem::is_symlink(options.output, ec) && std::filesystem::equivalent(options.input, options.output, ec)) {
    if (options.from != "coco") {
      throw UsageError("validate: " + options.output.string() + ": is the input (read with --from " + options.from +
                       "); --fix writes COCO JSON: choose another --output");
    }
    if (!options.overwrite) {
      throw UsageError("validate: " + options.output.string() + ": is the input file; pass --overwrite to replace it " +
                       "with the fixed copy, or choose another --output");
    }
    return;
  }
  CheckOutputFile(options.output, options.overwrite, {"validate", "--output", "COCO JSON", {}},
                  [](const std::filesystem::path& p) { return FileStartsWith(p, '{'); });
}

ValidateResult RunValidate(const ValidateOptions& options) {
  if (options.from != "coco") throw UsageError("validate: --from " + options.from + " is read by the segtune CLI (plugin)");
  CheckValidateOutput(options);
  return ValidateDataset(LoadCoco(options.input), options);
}

ValidateResult ValidateDataset(const CocoDataset& dataset, const ValidateOptions& options) {
  ValidateResult result;
  result.input = options.input;
  result.images = dataset.images.size();
  result.categories = dataset.categories.size();
  result.annotations = dataset.annotations.size();
  result.report = ValidateCoco(dataset, options.images_dir);
  if (options.fix) {
    ValidateFixResult fix;
    const CocoDataset fixed = FixCoco(dataset, options.images_dir, &fix.changes);
    SaveCoco(fixed, options.output);
    fix.remaining = ValidateCoco(fixed, options.images_dir, 0);
    fix.output = options.output;
    result.fix = std::move(fix);
  }
  return result;
}

std::string FormatValidateResult(const ValidateResult& result) {
  std::ostringstream out;
  out << result.input.string() << (result.format.empty() ? "" : " (" + result.format + ")") << ": "
      << WithCommas((long long)result.images) << " images, "
      << WithCommas((long long)result.categories) << " categories, " << WithCommas((long long)result.annotations)
      << " annotations\n";
  for (const auto& w : result.read_warnings) out << "warning: " << w << "\n";
  const ValidationReport& report = result.report;
  for (const auto& [kind, f] : report.findings) {
    out << "error: " << DescribeProblem(kind) << ": " << WithCommas(f.count) << "\n";
    for (const auto& e : f.examples) out << "  " << e << "\n";
  }
  if (!report.images_checked) out << "note: image files not checked (pass --images-dir DIR)\n";
  out << (report.total() == 0 ? "no problems found\n" : WithCommas(report.total()) + " problems found\n");
  if (result.fix) {
    for (const auto& c : result.fix->changes) out << "fixed: " << c << "\n";
    if (result.fix->changes.empty()) out << "fixed: nothing to change\n";
    if (result.fix->remaining.total() > 0) {
      out << "still " << WithCommas(result.fix->remaining.total())
          << " problems in the fixed copy (missing/unreadable images are not fixed)\n";
    }
  }
  return out.str();
}

}  // namespace segtune
