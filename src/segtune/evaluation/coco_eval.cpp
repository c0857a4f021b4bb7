// EvaluateCoco: the pipeline of coco_eval_internal.h, and the summary / per-class / JSON outputs.
#include "segtune/evaluation/coco_eval.h"

#include <cmath>

#include <chrono>
#include <cstdio>

#include "segtune/core/error.h"
#include "segtune/evaluation/coco_eval_internal.h"

namespace segtune {

using namespace coco_eval_internal;

CocoIouType ParseCocoIouType(const std::string& text) {
  if (text == "bbox") return CocoIouType::kBbox;
  if (text == "segm") return CocoIouType::kSegm;
  throw UsageError("--type: expected bbox or segm, got '" + text + "'");
}

const char* CocoIouTypeName(CocoIouType type) { return type == CocoIouType::kSegm ? "segm" : "bbox"; }

double CocoEvalResult::Precision(size_t t, size_t r, size_t k, size_t a, size_t m) const {
  const size_t R = rec_thrs.size(), K = cat_ids.size(), A = area_rng.size(), M = max_dets.size();
  return precision[(((t * R + r) * K + k) * A + a) * M + m];
}

double CocoEvalResult::Recall(size_t t, size_t k, size_t a, size_t m) const {
  const size_t K = cat_ids.size(), A = area_rng.size(), M = max_dets.size();
  return recall[((t * K + k) * A + a) * M + m];
}

namespace {

// Per category AP over the IoU thresholds in `tind`, area "all", the largest maxDets.
double ClassAp(const CocoEvalResult& r, size_t k, bool only_50) {
  size_t a_all = 0;
  for (size_t a = 0; a < r.area_rng.size(); ++a)
    if (r.area_rng[a].label == "all") a_all = a;
  const size_t m = r.max_dets.size() - 1;
  std::vector<double> s;
  for (size_t t = 0; t < r.iou_thrs.size(); ++t) {
    if (only_50 && r.iou_thrs[t] != .5) continue;
    for (size_t q = 0; q < r.rec_thrs.size(); ++q) s.push_back(r.Precision(t, q, k, a_all, m));
  }
  return MeanOfDefined(s);
}

}  // namespace

CocoEvalResult EvaluateCoco(const CocoDataset& gt, const std::vector<CocoAnnotation>& dt,
                            const CocoEvalParams& params) {
  const auto start = std::chrono::steady_clock::now();
  const PreparedEval prepared = PrepareCocoEval(gt, dt, params);
  const CellEvaluation cells = EvaluateCells(prepared);
  Accumulated acc = AccumulateCells(prepared, cells);

  const ResolvedParams& p = prepared.params;
  CocoEvalResult r;
  r.iou_type = p.iou_type;
  r.iou_thrs = p.iou_thrs;
  r.rec_thrs = p.rec_thrs;
  r.area_rng = p.area_rng;
  r.max_dets = p.max_dets;
  r.cat_ids = p.use_cats ? p.cat_ids : std::vector<int64_t>{-1};
  r.cat_names = p.use_cats ? prepared.cat_names : std::vector<std::string>{"all"};
  r.precision = std::move(acc.precision);
  r.recall = std::move(acc.recall);
  r.num_images = p.img_ids.size();
  r.num_gt = prepared.gts.size();
  r.num_dt = prepared.dts.size();
  r.report = prepared.report;
  r.stats = SummarizeStats(r);
  for (size_t k = 0; k < r.cat_ids.size(); ++k) {
    r.per_class_ap.push_back(ClassAp(r, k, false));
    r.per_class_ap50.push_back(ClassAp(r, k, true));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

std::string FormatCocoSummary(const CocoEvalResult& r) {
  // ' {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}' per line, as summarize().
  struct Line {
    bool ap;
    double iou;  // < 0: the full range.
    const char* area;
    int max_dets;
  };
  const int m0 = r.max_dets[0], m1 = r.max_dets[1], m2 = r.max_dets[2];
  const Line lines[12] = {{true, -1, "all", 100},     {true, .5, "all", m2},        {true, .75, "all", m2},
                          {true, -1, "small", m2},    {true, -1, "medium", m2},     {true, -1, "large", m2},
                          {false, -1, "all", m0},     {false, -1, "all", m1},       {false, -1, "all", m2},
                          {false, -1, "small", m2},   {false, -1, "medium", m2},    {false, -1, "large", m2}};
  std::string out;
  char buf[256];
  for (int i = 0; i < 12; ++i) {
    const Line& l = lines[i];
    char iou[64];
    if (l.iou < 0) {
      std::snprintf(iou, sizeof iou, "%0.2f:%0.2f", r.iou_thrs.front(), r.iou_thrs.back());
    } else {
      std::snprintf(iou, sizeof iou, "%0.2f", l.iou);
    }
    std::snprintf(buf, sizeof buf, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n",
                  l.ap ? "Average Precision" : "Average Recall", l.ap ? "(AP)" : "(AR)", iou, l.area, l.max_dets,
                  r.stats[i]);
    out += buf;
  }
  return out;
}

std::string FormatCocoPerClass(const CocoEvalResult& r) {
  size_t width = 8;
  for (const auto& n : r.cat_names) width = std::max(width, n.size());
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-*s %10s %8s %8s\n", int(width), "category", "id", "AP", "AP50");
  out += buf;
  for (size_t k = 0; k < r.cat_ids.size(); ++k) {
    std::snprintf(buf, sizeof buf, "%-*s %10lld %8.3f %8.3f\n", int(width), r.cat_names[k].c_str(),
                  static_cast<long long>(r.cat_ids[k]), r.per_class_ap[k], r.per_class_ap50[k]);
    out += buf;
  }
  return out;
}

namespace {

// Index of IoU threshold `iou` in r.iou_thrs, or -1.
int IouIndex(const CocoEvalResult& r, double iou) {
  for (size_t t = 0; t < r.iou_thrs.size(); ++t) {
    if (std::fabs(r.iou_thrs[t] - iou) < 1e-9) return static_cast<int>(t);
  }
  return -1;
}

// Per class, precision at each recall threshold for IoU 0.5 and 0.75, area "all", the largest
// maxDets: the curves behind AP50 and AP75 (-1 where COCOeval leaves precision undefined).
nlohmann::json PrCurvesToJson(const CocoEvalResult& r) {
  nlohmann::json curves = {{"recall", r.rec_thrs}, {"area", "all"},
                           {"max_dets", r.max_dets.empty() ? 0 : r.max_dets.back()}};
  nlohmann::json per_class = nlohmann::json::array();
  if (r.precision.empty() || r.max_dets.empty() || r.area_rng.empty()) return curves;
  const size_t m = r.max_dets.size() - 1;
  for (size_t k = 0; k < r.cat_ids.size(); ++k) {
    nlohmann::json entry = {{"category_id", r.cat_ids[k]}, {"name", r.cat_names[k]}};
    for (const auto& [key, iou] : {std::pair<const char*, double>{"iou50", 0.5}, {"iou75", 0.75}}) {
      const int t = IouIndex(r, iou);
      if (t < 0) continue;
      std::vector<double> precision(r.rec_thrs.size());
      for (size_t i = 0; i < precision.size(); ++i) precision[i] = r.Precision(t, i, k, 0, m);
      entry[key] = precision;
    }
    per_class.push_back(entry);
  }
  curves["per_class"] = per_class;
  return curves;
}

}  // namespace

nlohmann::json CocoEvalResultToJson(const CocoEvalResult& r) {
  static const char* kNames[12] = {"AP", "AP50", "AP75", "APs", "APm", "APl",
                                   "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
  nlohmann::json j;
  j["iou_type"] = CocoIouTypeName(r.iou_type);
  nlohmann::json stats = nlohmann::json::object();
  for (int i = 0; i < 12; ++i) stats[kNames[i]] = r.stats[i];
  j["stats"] = stats;
  j["stats_list"] = r.stats;
  nlohmann::json per_class = nlohmann::json::array();
  for (size_t k = 0; k < r.cat_ids.size(); ++k) {
    per_class.push_back({{"category_id", r.cat_ids[k]}, {"name", r.cat_names[k]}, {"AP", r.per_class_ap[k]},
                         {"AP50", r.per_class_ap50[k]}});
  }
  j["per_class"] = per_class;
  j["pr_curves"] = PrCurvesToJson(r);
  j["max_dets"] = r.max_dets;
  j["num_images"] = r.num_images;
  j["num_gt"] = r.num_gt;
  j["num_dt"] = r.num_dt;
  j["results"] = {{"total", r.report.total},
                  {"unknown_image", r.report.unknown_image},
                  {"unknown_category", r.report.unknown_category}};
  j["seconds"] = r.seconds;
  return j;
}

}  // namespace segtune
