// COCO.loadRes + COCOeval._prepare: resolve the parameters, turn results into evaluable detections
// and group ground truths and detections by (image, category) cell in pycocotools' order.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <unordered_map>

#include "segtune/core/error.h"
#include "segtune/evaluation/coco_eval_internal.h"

namespace segtune::coco_eval_internal {
namespace {

// np.linspace(start, stop, num): i * step + start, with the last value set to stop exactly.
std::vector<double> Linspace(double start, double stop, int num) {
  std::vector<double> v(num);
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) v[i] = i * step + start;
  v[num - 1] = stop;
  return v;
}

// sorted() / np.unique order of image ids: numeric for numbers, by text for strings.
bool ImageIdLess(const ImageId& a, const ImageId& b) {
  if (a.is_number && b.is_number) {
    const long long x = std::strtoll(a.text.c_str(), nullptr, 10), y = std::strtoll(b.text.c_str(), nullptr, 10);
    if (x != y) return x < y;
    return a.text < b.text;
  }
  if (a.is_number != b.is_number) return a.is_number;  // Python would refuse to compare; numbers first.
  return a.text < b.text;
}

ResolvedParams Resolve(const CocoDataset& gt, const CocoEvalParams& p) {
  ResolvedParams r;
  r.iou_type = p.iou_type;
  r.use_cats = p.use_cats;
  r.results_kind = p.results_kind;
  r.threads = p.threads;
  r.gt_source = p.gt_source;
  r.dt_source = p.dt_source;
  if (r.threads <= 0) r.threads = std::max(1u, std::thread::hardware_concurrency());
  if (p.img_ids.empty()) {
    for (const auto& im : gt.images) r.img_ids.push_back(im.id);
  } else {
    r.img_ids = p.img_ids;
  }
  std::sort(r.img_ids.begin(), r.img_ids.end(), ImageIdLess);
  r.img_ids.erase(std::unique(r.img_ids.begin(), r.img_ids.end()), r.img_ids.end());
  if (p.cat_ids.empty()) {
    for (const auto& c : gt.categories) r.cat_ids.push_back(c.id);
    std::sort(r.cat_ids.begin(), r.cat_ids.end());  // COCOeval: sorted(cocoGt.getCatIds()).
  } else {
    r.cat_ids = p.cat_ids;
  }
  if (p.use_cats) {  // evaluate(): np.unique(p.catIds) only when useCats.
    std::sort(r.cat_ids.begin(), r.cat_ids.end());
  }
  r.cat_ids.erase(std::unique(r.cat_ids.begin(), r.cat_ids.end()), r.cat_ids.end());
  r.max_dets = p.max_dets;
  std::sort(r.max_dets.begin(), r.max_dets.end());
  if (r.max_dets.size() < 3) {
    throw UsageError("max-dets needs 3 values (the summary reports AR at maxDets[0], [1] and [2]), got " +
                     std::to_string(r.max_dets.size()));
  }
  for (int m : r.max_dets) {
    if (m <= 0) throw UsageError("max-dets values must be positive, got " + std::to_string(m));
  }
  r.iou_thrs = p.iou_thrs.empty() ? Linspace(.5, 0.95, 10) : p.iou_thrs;
  r.rec_thrs = p.rec_thrs.empty() ? Linspace(.0, 1.00, 101) : p.rec_thrs;
  r.area_rng = p.area_rng;
  if (r.area_rng.empty()) {
    r.area_rng = {{"all", 0, 1e5 * 1e5}, {"small", 0, 32 * 32}, {"medium", 32 * 32, 96 * 96}, {"large", 96 * 96, 1e5 * 1e5}};
  }
  return r;
}

struct ImageSize {
  uint32_t h = 0, w = 0;
};

// annToRLE: polygons (frPyObjects + merge) at the image size, RLEs as they are. `where` names the
// annotation in errors (the rasterizer does not know it).
Rle AnnotationMask(const Segmentation& seg, const ImageSize& size, const std::function<std::string()>& where) {
  if (seg.rle) return *seg.rle;
  try {
    return RleFromPolygons(seg.polygons, size.h, size.w);
  } catch (const FormatError& e) {
    throw FormatError(where() + ": segmentation: " + e.what());
  }
}

bool IsZeroBox(const std::array<double, 4>& b) { return b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0; }

// loadRes's choice, made once from the first result.
bool ResultsAreBoxes(const std::vector<CocoAnnotation>& dt, CocoResultsKind kind,
                     const std::unordered_map<std::string, ImageSize>& sizes, const std::string& dt_source) {
  if (kind != CocoResultsKind::kAuto) return kind == CocoResultsKind::kBoxes;
  if (dt.empty()) return true;
  const CocoAnnotation& first = dt[0];
  if (first.segmentation.empty()) return true;
  if (IsZeroBox(first.bbox)) return false;
  auto it = sizes.find(first.image_id.text);
  const ImageSize size = it == sizes.end() ? ImageSize{} : it->second;
  return RleToBbox(AnnotationMask(first.segmentation, size, [&] { return dt_source + ": results[0]"; })) != first.bbox;
}

// A CSR grouping: items sorted by (cell, order key), then offsets per cell.
struct Keyed {
  uint64_t cell;
  uint64_t order1;
  uint64_t order2;
  uint32_t item;
};

void BuildCsr(std::vector<Keyed>& keyed, size_t num_cells, std::vector<uint32_t>* begin,
              std::vector<uint32_t>* index) {
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    if (a.cell != b.cell) return a.cell < b.cell;
    if (a.order1 != b.order1) return a.order1 < b.order1;
    return a.order2 < b.order2;
  });
  begin->assign(num_cells + 1, 0);
  index->resize(keyed.size());
  for (size_t i = 0; i < keyed.size(); ++i) {
    (*begin)[keyed[i].cell + 1]++;
    (*index)[i] = keyed[i].item;
  }
  for (size_t c = 0; c < num_cells; ++c) (*begin)[c + 1] += (*begin)[c];
}

}  // namespace

PreparedEval PrepareCocoEval(const CocoDataset& gt, const std::vector<CocoAnnotation>& dt,
                             const CocoEvalParams& params) {
  PreparedEval out;
  out.params = Resolve(gt, params);
  ResolvedParams& p = out.params;
  const bool segm = p.iou_type == CocoIouType::kSegm;

  std::unordered_map<std::string, ImageSize> sizes;  // COCO.imgs: the last image with an id wins.
  for (const auto& im : gt.images) sizes[im.id.text] = {uint32_t(std::max(0, im.height)), uint32_t(std::max(0, im.width))};
  std::unordered_map<std::string, uint32_t> img_index;
  for (size_t i = 0; i < p.img_ids.size(); ++i) img_index[p.img_ids[i].text] = uint32_t(i);
  std::unordered_map<int64_t, uint32_t> cat_index;
  for (size_t k = 0; k < p.cat_ids.size(); ++k) cat_index.emplace(p.cat_ids[k], uint32_t(k));
  std::unordered_map<int64_t, std::string> names;
  for (const auto& c : gt.categories) names[c.id] = c.name;
  for (int64_t id : p.cat_ids) out.cat_names.push_back(names.count(id) ? names[id] : std::to_string(id));

  const size_t K = p.use_cats ? p.cat_ids.size() : 1;
  out.num_cells = p.img_ids.size() * K;
  auto cell_of = [&](uint32_t i, uint32_t k) -> uint64_t { return p.use_cats ? uint64_t(i) * K + k : i; };

  // Ground truth, as loadAnns(getAnnIds(imgIds, catIds)) lists it: per image in file order, and an
  // annotation id that occurs twice resolves to its last annotation (COCO.anns is keyed by id).
  std::unordered_map<int64_t, size_t> last_with_id;
  for (size_t j = 0; j < gt.annotations.size(); ++j) last_with_id[gt.annotations[j].id] = j;
  std::vector<Keyed> gt_keyed;
  std::vector<size_t> gt_source;
  for (size_t j = 0; j < gt.annotations.size(); ++j) {
    const CocoAnnotation& listed = gt.annotations[j];
    auto li = img_index.find(listed.image_id.text);
    if (li == img_index.end()) continue;
    if (p.use_cats && !cat_index.count(listed.category_id)) continue;
    const size_t src = last_with_id[listed.id];
    const CocoAnnotation& ann = gt.annotations[src];
    auto ii = img_index.find(ann.image_id.text);
    auto ki = cat_index.find(ann.category_id);
    if (ii == img_index.end() || ki == cat_index.end()) continue;
    const uint64_t order1 = p.use_cats ? li->second : uint64_t(ki->second) << 32 | li->second;
    gt_keyed.push_back({cell_of(ii->second, ki->second), order1, j, uint32_t(gt_source.size())});
    gt_source.push_back(src);
  }
  out.gts.resize(gt_source.size());
  ParallelFor(gt_source.size(), p.threads, 256, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const CocoAnnotation& ann = gt.annotations[gt_source[i]];
      GtItem& g = out.gts[i];
      g.id = ann.id;
      g.area = ann.area;
      g.crowd = ann.iscrowd;
      g.box = ann.bbox;
      if (segm) {
        g.mask = AnnotationMask(ann.segmentation, sizes[ann.image_id.text], [&] {
          return p.gt_source + ": annotation " + std::to_string(ann.id);
        });
      }
    }
  });
  BuildCsr(gt_keyed, out.num_cells, &out.gt_begin, &out.gt_index);

  // Detections, as loadRes builds them.
  std::unordered_map<int64_t, bool> known_cat;
  for (const auto& c : gt.categories) known_cat[c.id] = true;
  const bool boxes = ResultsAreBoxes(dt, p.results_kind, sizes, p.dt_source);
  out.report.total = dt.size();
  std::vector<Keyed> dt_keyed;
  std::vector<size_t> dt_source;
  for (size_t j = 0; j < dt.size(); ++j) {
    const CocoAnnotation& ann = dt[j];
    if (!sizes.count(ann.image_id.text)) {
      if (out.report.unknown_image_examples.size() < 5) out.report.unknown_image_examples.push_back(ann.image_id.text);
      ++out.report.unknown_image;
      continue;
    }
    if (!known_cat.count(ann.category_id)) {
      if (out.report.unknown_category_examples.size() < 5) out.report.unknown_category_examples.push_back(ann.category_id);
      ++out.report.unknown_category;
      continue;
    }
    if (!ann.score) {
      throw FormatError(p.dt_source + ": results[" + std::to_string(j) +
                        "]: missing \"score\" (every detection needs a confidence)");
    }
    auto ii = img_index.find(ann.image_id.text);
    auto ki = cat_index.find(ann.category_id);
    if (ii == img_index.end() || ki == cat_index.end()) continue;
    const uint64_t order1 = p.use_cats ? 0 : ki->second;
    dt_keyed.push_back({cell_of(ii->second, ki->second), order1, j, uint32_t(dt_source.size())});
    dt_source.push_back(j);
  }
  out.dts.resize(dt_source.size());
  ParallelFor(dt_source.size(), p.threads, 256, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const CocoAnnotation& ann = dt[dt_source[i]];
      const ImageSize size = sizes[ann.image_id.text];
      const auto where = [&] { return p.dt_source + ": results[" + std::to_string(dt_source[i]) + "]"; };
      DtItem& d = out.dts[i];
      d.score = *ann.score;
      if (boxes) {
        d.box = ann.bbox;
        d.area = ann.bbox[2] * ann.bbox[3];
        if (segm) {
          // loadRes gives a box result without segmentation the box polygon [x1,y1,x1,y2,x2,y2,x2,y1].
          const double x1 = ann.bbox[0], x2 = ann.bbox[0] + ann.bbox[2];
          const double y1 = ann.bbox[1], y2 = ann.bbox[1] + ann.bbox[3];
          d.mask = ann.segmentation.empty() ? RleFromPolygon({x1, y1, x1, y2, x2, y2, x2, y1}, size.h, size.w)
                                            : AnnotationMask(ann.segmentation, size, where);
        }
      } else {
        Rle mask = AnnotationMask(ann.segmentation, size, where);
        d.area = double(RleArea(mask));
        d.box = IsZeroBox(ann.bbox) ? RleToBbox(mask) : ann.bbox;
        if (segm) d.mask = std::move(mask);
      }
    }
  });
  BuildCsr(dt_keyed, out.num_cells, &out.dt_begin, &out.dt_index);
  return out;
}

}  // namespace segtune::coco_eval_internal
