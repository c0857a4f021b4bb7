// COCOeval.accumulate: per category, area range and maxDets, all images' detections ranked by score
// (stable, images in id order), cumulative TP/FP, the precision envelope sampled at the recall
// thresholds (searchsorted left), and the final recall.
#include <algorithm>
#include <cmath>
#include <limits>

#include "segtune/evaluation/coco_eval_internal.h"

namespace segtune::coco_eval_internal {
namespace {

struct Dims {
  size_t T, R, K, A, M;
  size_t P(size_t t, size_t r, size_t k, size_t a, size_t m) const { return (((t * R + r) * K + k) * A + a) * M + m; }
  size_t Q(size_t t, size_t k, size_t a, size_t m) const { return ((t * K + k) * A + a) * M + m; }
};

struct Curve {
  std::vector<double> rc, pr;
};

// One (t, k, a, m) entry from the ranked detection states.
void PrecisionRecall(const std::vector<uint32_t>& ranked, const uint8_t* state, uint32_t npig,
                     const std::vector<double>& rec_thrs, Curve& c, double* recall, double* q, size_t q_stride) {
  const size_t nd = ranked.size();
  c.rc.resize(nd);
  c.pr.resize(nd);
  double tp = 0, fp = 0;
  const double eps = std::numeric_limits<double>::epsilon();  // np.spacing(1).
  for (size_t i = 0; i < nd; ++i) {
    const uint8_t s = state[ranked[i]];
    tp += s == kTruePositive;
    fp += s == kFalsePositive;
    c.rc[i] = tp / npig;
    c.pr[i] = tp / (fp + tp + eps);
  }
  *recall = nd ? c.rc[nd - 1] : 0;
  for (size_t i = nd - 1; nd > 0 && i > 0; --i) {
    if (c.pr[i] > c.pr[i - 1]) c.pr[i - 1] = c.pr[i];
  }
  // q[ri] = pr[searchsorted(rc, recThrs[ri], 'left')]; past the end the rest stays 0 (the except).
  size_t pi = 0;
  bool past_end = false;
  for (size_t ri = 0; ri < rec_thrs.size(); ++ri) {
    if (!past_end) {
      pi = size_t(std::lower_bound(c.rc.begin(), c.rc.end(), rec_thrs[ri]) - c.rc.begin());
      if (pi >= nd) past_end = true;
    }
    q[ri * q_stride] = past_end ? 0.0 : c.pr[pi];
  }
}

}  // namespace

Accumulated AccumulateCells(const PreparedEval& pe, const CellEvaluation& cells) {
  const auto& p = pe.params;
  const size_t I = p.img_ids.size();
  Dims d{p.iou_thrs.size(), p.rec_thrs.size(), p.use_cats ? p.cat_ids.size() : 1, p.area_rng.size(),
         p.max_dets.size()};
  Accumulated out;
  out.precision.assign(d.T * d.R * d.K * d.A * d.M, -1.0);
  out.recall.assign(d.T * d.K * d.A * d.M, -1.0);
  const size_t N = cells.dt_sorted.size(), C = pe.num_cells;
  ParallelFor(d.K, p.threads, 1, [&](size_t kb, size_t ke) {
    std::vector<uint32_t> ranked;
    Curve curve;
    for (size_t k = kb; k < ke; ++k) {
      for (size_t m = 0; m < d.M; ++m) {
        const uint32_t max_det = uint32_t(p.max_dets[m]);
        // np.concatenate([e['dtScores'][0:maxDet] for e in E]) then a stable sort on -score.
        ranked.clear();
        for (size_t i = 0; i < I; ++i) {
          const size_t c = i * d.K + k;
          const uint32_t b = cells.begin[c], n = std::min(cells.begin[c + 1] - b, max_det);
          for (uint32_t j = 0; j < n; ++j) ranked.push_back(b + j);
        }
        std::stable_sort(ranked.begin(), ranked.end(), [&](uint32_t x, uint32_t y) {
          return ScoreBefore(pe.dts[cells.dt_sorted[x]].score, pe.dts[cells.dt_sorted[y]].score);
        });
        for (size_t a = 0; a < d.A; ++a) {
          uint64_t npig = 0;
          for (size_t i = 0; i < I; ++i) npig += cells.npig[a * C + i * d.K + k];
          if (npig == 0) continue;  // Also covers "no evaluated image" (E empty).
          for (size_t t = 0; t < d.T; ++t) {
            const uint8_t* state = cells.state.data() + (a * d.T + t) * N;
            PrecisionRecall(ranked, state, uint32_t(npig), p.rec_thrs, curve, &out.recall[d.Q(t, k, a, m)],
                            &out.precision[d.P(t, 0, k, a, m)], d.K * d.A * d.M);
          }
        }
      }
    }
  });
  return out;
}

}  // namespace segtune::coco_eval_internal
