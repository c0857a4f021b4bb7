// LabeledDataset -> Label Studio import JSON (docs/formats.md §16): one task per image; regions
// without a score go into one annotation, regions with a score (predictions from `segtune infer`)
// into one prediction with model_version and per-region scores, for model-assisted labeling.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/output_guard.h"
#include "segtune/data/convert/brush_rle.h"
#include "segtune/data/convert/dataset_builder.h"
#include "segtune/data/convert/image_file_size.h"
#include "segtune/data/convert/json_input.h"
#include "segtune/data/convert/labelstudio.h"
#include "segtune/formats/image_codec.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Label Studio's default templates name the control "label" and the image "image"; regions read
// from Label Studio keep their own names. A labeling config cannot have two controls of one name, and
// Label Studio refuses a region whose type differs from its control's: when the output holds regions
// of several kinds, the first kind present of rectangle, polygon and brush is "label" and the others
// are "polygon" and "brush".
constexpr const char* kDefaultFromName = "label";
constexpr const char* kDefaultToName = "image";
constexpr const char* kRegionTypes[] = {"rectanglelabels", "polygonlabels", "brushlabels"};
constexpr const char* kOtherFromNames[] = {"rectangle", "polygon", "brush"};

// The region type an annotation becomes.
const char* RegionTypeOf(const CocoAnnotation& a) {
  if (a.segmentation.rle) return kRegionTypes[2];
  return a.segmentation.polygons.empty() ? kRegionTypes[0] : kRegionTypes[1];
}

// A score as Label Studio takes it: in [0, 1] (it refuses others); not finite -> 0.
double ScoreInRange(double score) { return std::isfinite(score) ? std::clamp(score, 0.0, 1.0) : 0.0; }

// Percent coordinates inside the image: Label Studio refuses values outside [0, 100].
double Percent(double v, int* clipped) {
  const double inside = std::clamp(v, 0.0, 100.0);
  if (std::fabs(inside - v) > 1e-9) ++*clipped;
  return inside;
}

// The image's size: from the dataset, else from its file's header (percent coordinates need it).
std::pair<int, int> ImageSize(const LabeledDataset& dataset, const CocoImage& image) {
  if (image.width > 0 && image.height > 0) return {image.width, image.height};
  const fs::path path = ImageFilePath(dataset, image.file_name);
  if (const auto size = ReadImageFileSize(path)) return {size->width, size->height};
  throw UsageError("labelstudio: image '" + image.file_name + "' has annotations but no width/height, and " +
                   path.string() + " is not a readable image (Label Studio coordinates are percent of the size)");
}

class LabelStudioWriter {
 public:
  LabelStudioWriter(const LabeledDataset& dataset, const WriteOptions& options, ConversionReport* report,
                    const fs::path& output)
      : dataset_(dataset), options_(options), report_(report), output_(output), names_(CategoryNames(dataset.coco)),
        controls_(ParseLabelStudioControls(options.label_studio_controls)) {
    std::set<std::string> types;
    for (const auto& a : dataset.coco.annotations) {
      any_score_ |= a.score.has_value();
      types.insert(RegionTypeOf(a));
    }
    bool first = true;
    for (size_t k = 0; k < 3; ++k) {
      if (!types.count(kRegionTypes[k])) continue;
      // The name given for this kind, else (for the first kind) the one given without a kind.
      auto given = controls_.find(kRegionTypes[k]);
      if (given == controls_.end() && first) given = controls_.find("");
      if (given != controls_.end()) named_types_.insert(kRegionTypes[k]);
      from_name_of_type_[kRegionTypes[k]] = given != controls_.end() ? given->second
                                            : first                  ? kDefaultFromName
                                                                     : kOtherFromNames[k];
      first = false;
    }
    CheckDistinct();
    if (types.size() > 1 && named_types_.size() < types.size()) {
      std::string names;
      for (const auto& [type, name] : from_name_of_type_) names += (names.empty() ? "" : ", ") + type + " '" + name + "'";
      report_->Warn(output_, "", "regions of " + std::to_string(types.size()) + " kinds, each under its own control name (" +
                                     names + "): the project's labeling config needs a control of each");
    }
  }

  json Tasks() {
    std::map<std::string, std::vector<const CocoAnnotation*>> by_image;
    for (const auto& a : dataset_.coco.annotations) by_image[a.image_id.text].push_back(&a);
    json tasks = json::array();
    for (const auto& image : dataset_.coco.images) tasks.push_back(Task(image, by_image[image.id.text]));
    if (clipped_ > 0) {
      report_->Warn(output_, "", std::to_string(clipped_) + " coordinate(s) outside the image clipped to it "
                                                            "(Label Studio takes percentages in [0, 100] only)");
    }
    if (scores_clamped_ > 0) {
      report_->Warn(output_, "", std::to_string(scores_clamped_) + " score(s) outside [0, 1] clamped into it "
                                                                   "(Label Studio refuses them)");
    }
    return tasks;
  }

 private:
  json Task(const CocoImage& image, const std::vector<const CocoAnnotation*>& annotations) {
    json task = json::object();
    if (image.id.is_number) task["id"] = json::parse(image.id.text);
    const auto original = image.extra.find(kLabelStudioImageKey);
    task["data"] = {{"image", original != image.extra.end() && original->is_string()
                                  ? original->get<std::string>() : LabelStudioImageRef(image.file_name)}};
    // Regions with a score are the model's (predictions), the others a person's (annotations).
    json labeled = json::array(), predicted = json::array();
    std::vector<double> scores;
    if (!annotations.empty()) {
      const auto [width, height] = ImageSize(dataset_, image);
      for (const CocoAnnotation* a : annotations) {
        AddRegions(*a, image, width, height, a->score ? &predicted : &labeled);
        if (a->score) scores.push_back(Score(*a->score));
      }
    }
    // An annotation, even an empty one, marks a task as labeled: pre-labels (any score in the
    // dataset) must leave images without human regions unlabeled.
    if (!labeled.empty() || !any_score_) task["annotations"] = json::array({{{"result", labeled}}});
    if (!any_score_ || (predicted.empty() && !labeled.empty())) return task;
    json prediction = {{"model_version", dataset_.coco.info.value("model_version", std::string("segtune"))},
                       {"result", predicted}};
    if (!scores.empty()) prediction["score"] = std::accumulate(scores.begin(), scores.end(), 0.0) / double(scores.size());
    task["predictions"] = json::array({prediction});
    return task;
  }

  // Two kinds under one control name: Label Studio would refuse the regions of one of them.
  void CheckDistinct() const {
    std::map<std::string, std::string> type_of_name;
    for (const auto& [type, name] : from_name_of_type_) {
      const auto [it, added] = type_of_name.emplace(name, type);
      if (!added) {
        throw UsageError("labelstudio: " + it->second + " and " + type + " regions would both use control '" + name +
                         "' (Label Studio refuses a region whose type is not its control's): name one with "
                         "--label-studio-control KIND=NAME");
      }
    }
  }

  // ScoreInRange, counting the scores it changes.
  double Score(double score) {
    const double inside = ScoreInRange(score);
    if (inside != score) ++scores_clamped_;
    return inside;
  }

  json Region(const CocoAnnotation& a, const std::string& type, int width, int height, json value, size_t part) {
    const std::string name = names_.count(a.category_id) ? names_.at(a.category_id) : std::to_string(a.category_id);
    value[type] = json::array({name});
    json region = {{"id", "a" + std::to_string(a.id) + (part ? "_" + std::to_string(part) : "")},
                   {"type", type},
                   {"from_name", from_name_of_type_.at(type)},
                   {"to_name", options_.label_studio_image.empty() ? kDefaultToName : options_.label_studio_image},
                   {"original_width", width},
                   {"original_height", height},
                   {"image_rotation", 0},
                   {"value", std::move(value)}};
    const auto names = a.extra.find(kLabelStudioRegionKey);
    if (names != a.extra.end() && names->is_object()) {
      // Names read from Label Studio, unless the options name them for this project.
      const bool keep[] = {!named_types_.count(type), options_.label_studio_image.empty()};
      const char* keys[] = {"from_name", "to_name"};
      for (int k = 0; k < 2; ++k) {
        if (keep[k] && names->contains(keys[k]) && (*names)[keys[k]].is_string()) region[keys[k]] = (*names)[keys[k]];
      }
    }
    if (a.score) region["score"] = ScoreInRange(*a.score);
    return region;
  }

  void AddRegions(const CocoAnnotation& a, const CocoImage& image, int width, int height, json* results) {
    const double sx = 100.0 / width, sy = 100.0 / height;
    const std::string element = "image '" + image.file_name + "': annotation " + std::to_string(a.id);
    if (a.segmentation.rle) {
      results->push_back(Region(a, "brushlabels", width, height, Brush(*a.segmentation.rle, width, height, element), 0));
      return;
    }
    const auto& polygons = a.segmentation.polygons;
    if (polygons.size() > 1) {
      report_->Warn(output_, element, std::to_string(polygons.size()) + " polygon parts written as as many regions "
                                                                        "(Label Studio has no multi-part polygon)");
    }
    for (size_t k = 0; k < polygons.size(); ++k) {
      json points = json::array();
      for (size_t i = 0; i + 1 < polygons[k].size(); i += 2) {
        points.push_back({Percent(polygons[k][i] * sx, &clipped_), Percent(polygons[k][i + 1] * sy, &clipped_)});
      }
      results->push_back(Region(a, "polygonlabels", width, height, {{"points", points}, {"closed", true}}, k));
    }
    if (!polygons.empty()) return;
    const auto [x, y, w, h] = a.bbox;
    const int before = clipped_;
    const double x0 = Percent(x * sx, &clipped_), y0 = Percent(y * sy, &clipped_);
    const double x1 = Percent((x + w) * sx, &clipped_), y1 = Percent((y + h) * sy, &clipped_);
    const bool inside = clipped_ == before;  // Then the size as it was, not a difference of rounded ends.
    results->push_back(Region(a, "rectanglelabels", width, height,
                              {{"x", x0}, {"y", y0}, {"width", inside ? w * sx : x1 - x0},
                               {"height", inside ? h * sy : y1 - y0}, {"rotation", 0}}, 0));
  }

  // RGBA with every channel 255 inside the mask, as Label Studio's own brush does.
  json Brush(const Rle& rle, int width, int height, const std::string& element) {
    if (rle.w != uint32_t(width) || rle.h != uint32_t(height)) {
      throw FormatError(output_, element, "mask is " + std::to_string(rle.w) + "x" + std::to_string(rle.h) +
                                              ", the image " + std::to_string(width) + "x" + std::to_string(height));
    }
    std::vector<uint8_t> mask(size_t(width) * size_t(height));
    RleDecode(rle, mask.data());
    std::vector<uint8_t> rgba(mask.size() * 4);
    for (size_t p = 0; p < mask.size(); ++p) {
      const uint8_t v = mask[p] ? 255 : 0;
      rgba[4 * p] = rgba[4 * p + 1] = rgba[4 * p + 2] = rgba[4 * p + 3] = v;
    }
    return {{"format", "rle"}, {"rle", EncodeBrushRle(rgba)}};
  }

  const LabeledDataset& dataset_;
  const WriteOptions& options_;
  ConversionReport* report_;
  fs::path output_;
  std::map<int64_t, std::string> names_;
  std::map<std::string, std::string> controls_;  // The options' control names by region type.
  std::set<std::string> named_types_;            // Region types whose control name the options give.
  std::map<std::string, std::string> from_name_of_type_;  // Region type -> control name, for regions without one.
  bool any_score_ = false;
  int clipped_ = 0, scores_clamped_ = 0;
};

}  // namespace

std::map<std::string, std::string> ParseLabelStudioControls(const std::vector<std::string>& values) {
  std::map<std::string, std::string> controls;
  for (const std::string& value : values) {
    const size_t equals = value.find('=');
    std::string kind = equals == std::string::npos ? "" : value.substr(0, equals);
    const std::string name = equals == std::string::npos ? value : value.substr(equals + 1);
    const std::string option = "--label-studio-control '" + value + "'";
    if (!kind.empty() && kind.find("labels") == std::string::npos) kind += "labels";
    if (!kind.empty() && std::find(std::begin(kRegionTypes), std::end(kRegionTypes), kind) == std::end(kRegionTypes)) {
      throw UsageError(option + ": the kind must be rectangle, polygon or brush");
    }
    if (name.empty()) throw UsageError(option + ": the control name is empty");
    if (!controls.emplace(kind, name).second) throw UsageError(option + ": that kind is named twice");
  }
  return controls;
}

void WriteLabelStudio(const LabeledDataset& dataset, const fs::path& output, const WriteOptions& options,
                      ConversionReport* report) {
  CheckOutputFile(output, options.overwrite, {"convert", "-o", "Label Studio JSON file", {}},
                  [](const fs::path& p) { return FileStartsWith(p, '['); });
  const json tasks = LabelStudioWriter(dataset, options, report, output).Tasks();
  WriteFileAtomic(output, tasks.dump(1) + "\n");
  report->written.push_back(output);
}

}  // namespace segtune
