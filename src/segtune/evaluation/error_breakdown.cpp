#include "segtune/evaluation/error_breakdown.h"

#include <algorithm>
#include <map>
#include <set>

#include "segtune/evaluation/box_match.h"

namespace segtune {
namespace {

constexpr double kForeground = 0.5;
constexpr double kBackground = 0.1;
constexpr size_t kMaxDets = 100;

enum Kind { kClassification, kLocalization, kBoth, kDuplicate, kBackgroundError, kMissed, kKinds };
const char* const kKindNames[kKinds] = {"classification", "localization", "both", "duplicate", "background", "missed"};

// What each detection and ground truth turned out to be; indexes into the caller's vectors.
struct Classified {
  std::vector<int> dt_kind;    // Per detection: a Kind, -1 for a true positive or not evaluated.
  std::vector<size_t> dt_target;  // Per detection: the ground truth a classification/localization error points at.
  std::vector<size_t> missed_gt;
  int64_t true_positives = 0;
};

struct ImageItems {
  std::vector<size_t> gt, dt;  // Indexes into gt.annotations and dt.
};

int64_t CategoryOf(int64_t category, bool use_cats) { return use_cats ? category : -1; }

void ClassifyImage(const CocoDataset& gt, const std::vector<CocoAnnotation>& dt, ImageItems items, bool use_cats,
                   Classified* out, std::set<size_t>* explained_gt) {
  std::stable_sort(items.dt.begin(), items.dt.end(), [&](size_t a, size_t b) { return *dt[a].score > *dt[b].score; });
  if (items.dt.size() > kMaxDets) items.dt.resize(kMaxDets);
  std::vector<const CocoAnnotation*> dts, gts;
  for (size_t d : items.dt) dts.push_back(&dt[d]);
  for (size_t g : items.gt) gts.push_back(&gt.annotations[g]);
  const BoxMatch m = MatchBoxes(dts, gts, use_cats, kForeground);
  const size_t n = gts.size();
  for (size_t i = 0; i < dts.size(); ++i) {
    if (m.gt_of_dt[i] >= 0) {
      ++out->true_positives;
      continue;
    }
    if (m.dt_on_crowd[i]) continue;
    // The closest non-crowd ground truth of its class and of another class.
    double same_max = 0, other_max = 0;
    size_t same_arg = 0, other_arg = 0;
    for (size_t j = 0; j < n; ++j) {
      if (gts[j]->iscrowd) continue;
      const double v = m.iou[i * n + j];
      const bool same = CategoryOf(gts[j]->category_id, use_cats) == CategoryOf(dts[i]->category_id, use_cats);
      if (same && v > same_max) same_max = v, same_arg = j;
      if (!same && v > other_max) other_max = v, other_arg = j;
    }
    const size_t d = items.dt[i];
    int kind = kBackgroundError;
    size_t target = 0;
    if (same_max >= kForeground) {
      kind = kDuplicate;
    } else if (other_max >= kForeground) {
      kind = kClassification, target = other_arg;
    } else if (same_max >= kBackground) {
      kind = kLocalization, target = same_arg;
    } else if (other_max >= kBackground) {
      kind = kBoth;
    }
    out->dt_kind[d] = kind;
    if (kind == kClassification || kind == kLocalization) {
      out->dt_target[d] = items.gt[target];
      explained_gt->insert(items.gt[target]);
    }
  }
  for (size_t j = 0; j < n; ++j) {
    if (!m.gt_matched[j] && !gts[j]->iscrowd) out->missed_gt.push_back(items.gt[j]);
  }
}

Classified Classify(const CocoDataset& gt, const std::vector<CocoAnnotation>& dt, const CocoEvalParams& params) {
  std::set<std::string> images;
  for (const auto& id : params.img_ids) images.insert(id.text);
  if (images.empty()) {
    for (const auto& image : gt.images) images.insert(image.id.text);
  }
  std::set<int64_t> cats(params.cat_ids.begin(), params.cat_ids.end());
  if (cats.empty()) {
    for (const auto& c : gt.categories) cats.insert(c.id);
  }
  std::map<std::string, ImageItems> by_image;
  for (size_t g = 0; g < gt.annotations.size(); ++g) {
    const auto& a = gt.annotations[g];
    if (images.count(a.image_id.text) && cats.count(a.category_id)) by_image[a.image_id.text].gt.push_back(g);
  }
  for (size_t d = 0; d < dt.size(); ++d) {
    if (images.count(dt[d].image_id.text) && cats.count(dt[d].category_id) && dt[d].score) {
      by_image[dt[d].image_id.text].dt.push_back(d);
    }
  }
  Classified out;
  out.dt_kind.assign(dt.size(), -1);
  out.dt_target.assign(dt.size(), 0);
  std::set<size_t> explained;
  for (const auto& [image, items] : by_image) ClassifyImage(gt, dt, items, params.use_cats, &out, &explained);
  std::vector<size_t> missed;
  for (size_t g : out.missed_gt) {
    if (!explained.count(g)) missed.push_back(g);
  }
  out.missed_gt = std::move(missed);
  return out;
}

double Ap50(const CocoDataset& gt, const std::vector<CocoAnnotation>& dt, CocoEvalParams params) {
  params.iou_type = CocoIouType::kBbox;
  params.iou_thrs = {kForeground};
  params.results_kind = CocoResultsKind::kBoxes;
  return EvaluateCoco(gt, dt, params).stats[0];
}

// AP50 with the errors of one kind fixed as the header comment says.
double Ap50Fixed(const CocoDataset& gt, const std::vector<CocoAnnotation>& dt, const CocoEvalParams& params,
                 const Classified& c, int kind) {
  if (kind == kMissed) {
    std::set<size_t> drop(c.missed_gt.begin(), c.missed_gt.end());
    CocoDataset fixed = gt;
    fixed.annotations.clear();
    for (size_t g = 0; g < gt.annotations.size(); ++g) {
      if (!drop.count(g)) fixed.annotations.push_back(gt.annotations[g]);
    }
    return Ap50(fixed, dt, params);
  }
  std::vector<CocoAnnotation> fixed;
  fixed.reserve(dt.size());
  for (size_t d = 0; d < dt.size(); ++d) {
    if (c.dt_kind[d] != kind) {
      fixed.push_back(dt[d]);
    } else if (kind == kClassification) {
      fixed.push_back(dt[d]);
      fixed.back().category_id = gt.annotations[c.dt_target[d]].category_id;
    } else if (kind == kLocalization) {
      fixed.push_back(dt[d]);
      fixed.back().bbox = gt.annotations[c.dt_target[d]].bbox;
      fixed.back().area = fixed.back().bbox[2] * fixed.back().bbox[3];
    }  // Duplicate, both, background: removed.
  }
  return Ap50(gt, fixed, params);
}

}  // namespace

ErrorBreakdown ComputeErrorBreakdown(const CocoDataset& gt, const std::vector<CocoAnnotation>& dt,
                                     const CocoEvalParams& params) {
  const Classified c = Classify(gt, dt, params);
  ErrorBreakdown out;
  out.ap50 = Ap50(gt, dt, params);
  out.true_positives = c.true_positives;
  for (int kind = 0; kind < kKinds; ++kind) {
    ErrorTypeCost cost;
    cost.type = kKindNames[kind];
    cost.count = kind == kMissed ? static_cast<int64_t>(c.missed_gt.size())
                                 : std::count(c.dt_kind.begin(), c.dt_kind.end(), kind);
    // A fix of nothing changes nothing; and with no ground truth AP is undefined either way.
    if (cost.count > 0 && out.ap50 >= 0) cost.delta_ap50 = std::max(0.0, Ap50Fixed(gt, dt, params, c, kind)) - out.ap50;
    out.errors.push_back(cost);
  }
  return out;
}

nlohmann::json ErrorBreakdownToJson(const ErrorBreakdown& breakdown) {
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& e : breakdown.errors) {
    errors.push_back({{"type", e.type}, {"count", e.count}, {"delta_ap50", e.delta_ap50}});
  }
  return {{"iou_type", "bbox"}, {"ap50", breakdown.ap50}, {"true_positives", breakdown.true_positives}, {"errors", errors}};
}

}  // namespace segtune
