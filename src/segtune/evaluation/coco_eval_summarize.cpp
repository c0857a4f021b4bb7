// COCOeval.summarize: the 12 detection stats as means over the defined (> -1) entries of the
// precision / recall arrays, with numpy's summation order so the values agree to the last bit.
#include <algorithm>

#include "segtune/evaluation/coco_eval_internal.h"

namespace segtune::coco_eval_internal {
namespace {

// numpy's pairwise_sum (loops_utils.h): 8 accumulators up to 128 items, halves above.
double PairwiseSum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return PairwiseSum(a, n2) + PairwiseSum(a + n2, n - n2);
}

// s[:, :, aind, mind] pairs as numpy's advanced indexing broadcasts the two index lists.
std::vector<std::pair<size_t, size_t>> IndexPairs(const std::vector<size_t>& aind, const std::vector<size_t>& mind) {
  std::vector<std::pair<size_t, size_t>> pairs;
  if (aind.size() == mind.size()) {
    for (size_t i = 0; i < aind.size(); ++i) pairs.push_back({aind[i], mind[i]});
  } else if (aind.size() == 1) {
    for (size_t m : mind) pairs.push_back({aind[0], m});
  } else if (mind.size() == 1) {
    for (size_t a : aind) pairs.push_back({a, mind[0]});
  }
  return pairs;
}

double Summarize(const CocoEvalResult& r, bool ap, const double* iou_thr, const std::string& area, int max_dets) {
  const size_t T = r.iou_thrs.size(), R = r.rec_thrs.size(), K = r.cat_ids.size(), A = r.area_rng.size(),
               M = r.max_dets.size();
  std::vector<size_t> tind, aind, mind;
  for (size_t t = 0; t < T; ++t)
    if (!iou_thr || r.iou_thrs[t] == *iou_thr) tind.push_back(t);
  for (size_t a = 0; a < A; ++a)
    if (r.area_rng[a].label == area) aind.push_back(a);
  for (size_t m = 0; m < M; ++m)
    if (r.max_dets[m] == max_dets) mind.push_back(m);
  const auto pairs = IndexPairs(aind, mind);
  std::vector<double> s;
  for (size_t t : tind) {
    if (ap) {
      for (size_t q = 0; q < R; ++q)
        for (size_t k = 0; k < K; ++k)
          for (auto [a, m] : pairs) s.push_back(r.Precision(t, q, k, a, m));
    } else {
      for (size_t k = 0; k < K; ++k)
        for (auto [a, m] : pairs) s.push_back(r.Recall(t, k, a, m));
    }
  }
  return MeanOfDefined(s);
}

}  // namespace

double MeanOfDefined(const std::vector<double>& values) {
  std::vector<double> defined;
  defined.reserve(values.size());
  for (double v : values)
    if (v > -1) defined.push_back(v);
  if (defined.empty()) return -1;
  return PairwiseSum(defined.data(), defined.size()) / double(defined.size());
}

std::array<double, 12> SummarizeStats(const CocoEvalResult& r) {
  const double iou50 = .5, iou75 = .75;
  const int m0 = r.max_dets[0], m1 = r.max_dets[1], m2 = r.max_dets[2];
  return {Summarize(r, true, nullptr, "all", 100),  // COCOeval passes 100 here, not maxDets[2].
          Summarize(r, true, &iou50, "all", m2),    Summarize(r, true, &iou75, "all", m2),
          Summarize(r, true, nullptr, "small", m2), Summarize(r, true, nullptr, "medium", m2),
          Summarize(r, true, nullptr, "large", m2), Summarize(r, false, nullptr, "all", m0),
          Summarize(r, false, nullptr, "all", m1),  Summarize(r, false, nullptr, "all", m2),
          Summarize(r, false, nullptr, "small", m2), Summarize(r, false, nullptr, "medium", m2),
          Summarize(r, false, nullptr, "large", m2)};
}

}  // namespace segtune::coco_eval_internal
