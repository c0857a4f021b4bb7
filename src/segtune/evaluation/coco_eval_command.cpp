// The coco-eval verb's work: files in, metrics and metrics.json out (the CLI prints them).
#include "segtune/evaluation/coco_eval_command.h"

#include <simdjson.h>

#include <cctype>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"
#include "segtune/formats/coco.h"
#include "segtune/evaluation/coco_eval.h"
#include "segtune/evaluation/error_breakdown.h"

namespace segtune {

bool FirstResultHasBox(const std::filesystem::path& path) {
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path.string()).get(text)) throw IoError(path, "cannot read results file");
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::array array;
  if (parser.iterate(text).get(doc) || doc.get_array().get(array)) {
    throw FormatError(path, "", "expected a COCO results array [{image_id, category_id, score, ...}]");
  }
  for (auto item : array) {
    simdjson::ondemand::object object;
    if (item.get_object().get(object)) return false;
    simdjson::ondemand::value box;
    if (object.find_field_unordered("bbox").get(box)) return false;
    simdjson::ondemand::array box_array;
    if (box.get_array().get(box_array)) return true;  // Present and not a list: loadRes would use it.
    size_t count = 0;
    if (box_array.count_elements().get(count)) return true;
    return count > 0;
  }
  return false;
}

namespace {

ImageId ParseImageId(const std::string& text) {
  ImageId id{text, !text.empty()};
  for (size_t i = 0; i < text.size(); ++i) {
    if (!(std::isdigit(static_cast<unsigned char>(text[i])) || (i == 0 && text[i] == '-'))) id.is_number = false;
  }
  return id;
}

std::vector<std::string> DroppedResultsWarnings(const CocoResultsReport& report, const std::filesystem::path& dt) {
  std::vector<std::string> warnings;
  if (report.unknown_image) {
    std::string ids;
    for (const auto& s : report.unknown_image_examples) ids += (ids.empty() ? "" : ", ") + s;
    warnings.push_back(dt.string() + ": " + WithCommas(long(report.unknown_image)) + " of " +
                       WithCommas(long(report.total)) +
                       " results are on images that are not in the ground truth (e.g. image_id " + ids +
                       "); they were left out (pycocotools refuses such a file: "
                       "\"Results do not correspond to current coco set\")");
  }
  if (report.unknown_category) {
    std::string ids;
    for (auto c : report.unknown_category_examples) ids += (ids.empty() ? "" : ", ") + std::to_string(c);
    warnings.push_back(dt.string() + ": " + WithCommas(long(report.unknown_category)) +
                       " results have a category_id that is not in the ground truth (e.g. " + ids +
                       "); they cannot match anything and were left out");
  }
  return warnings;
}

}  // namespace

CocoEvalCommandResult RunCocoEvalCommand(const CocoEvalOptions& o) {
  // The default sits next to the results, where `eval -o` may have put its own metrics.json.
  const std::filesystem::path out = o.output.empty() ? o.dt.parent_path() / "metrics.json" : o.output;
  CheckOutputFile(out, o.overwrite, {"coco-eval", "--output", "metrics JSON", {}},
                  [](const std::filesystem::path& p) { return FileStartsWith(p, '{'); });
  CocoEvalParams params;
  params.iou_type = ParseCocoIouType(o.type);
  for (const auto& s : o.img_ids) params.img_ids.push_back(ParseImageId(s));
  params.cat_ids = o.cat_ids;
  params.max_dets = o.max_dets;
  params.threads = o.threads;
  params.use_cats = o.use_cats;
  params.gt_source = o.gt.string();
  params.dt_source = o.dt.string();
  Info("coco-eval: loading " + o.gt.string());
  const CocoDataset gt = LoadCoco(o.gt);
  Info("coco-eval: loading " + o.dt.string());
  const std::vector<CocoAnnotation> dt = LoadCocoResults(o.dt);
  params.results_kind = FirstResultHasBox(o.dt) ? CocoResultsKind::kBoxes : CocoResultsKind::kMasks;
  if (dt.empty()) params.results_kind = CocoResultsKind::kBoxes;

  CocoEvalCommandResult result;
  result.eval = EvaluateCoco(gt, dt, params);
  result.warnings = DroppedResultsWarnings(result.eval.report, o.dt);
  nlohmann::json j = CocoEvalResultToJson(result.eval);
  // Box errors only: a mask result's box is derived from its mask.
  if (params.iou_type == CocoIouType::kBbox && params.results_kind == CocoResultsKind::kBoxes)
    j["error_breakdown"] = ErrorBreakdownToJson(ComputeErrorBreakdown(gt, dt, params));
  j["gt"] = o.gt.string();
  j["dt"] = o.dt.string();
  WriteFileAtomic(out, j.dump(2) + "\n");
  result.output = out;
  return result;
}

}  // namespace segtune
