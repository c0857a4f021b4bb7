// COCO run-length encoded masks, bit-compatible with pycocotools (common/maskApi.c).
//
// Masks are h x w, and — as in pycocotools — runs go down columns (pixel index = x * h + y),
// alternating 0s and 1s, starting with a (possibly empty) run of 0s. The functions taking raw
// pixel buffers use row-major uint8 buffers (as OpenCV and images do) and convert.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace segtune {

struct Rle {
  uint32_t h = 0;
  uint32_t w = 0;
  std::vector<uint32_t> counts;
  bool operator==(const Rle& o) const { return h == o.h && w == o.w && counts == o.counts; }
};

// Encodes a row-major h x w mask (nonzero = foreground).
Rle RleEncode(const uint8_t* mask_row_major, uint32_t h, uint32_t w);
// Decodes into a row-major h x w buffer of 0/1 (buffer must hold h*w bytes).
void RleDecode(const Rle& rle, uint8_t* mask_row_major);

// pycocotools' compressed string form (rleToString / rleFrString).
std::string RleToString(const Rle& rle);
// Throws FormatError on a malformed string or counts that do not sum to h*w.
Rle RleFromString(const std::string& counts, uint32_t h, uint32_t w);

// Rasterizes one polygon [x1,y1,x2,y2,...] exactly as rleFrPoly does.
Rle RleFromPolygon(const std::vector<double>& xy, uint32_t h, uint32_t w);
// Union of several polygon parts (frPyObjects + merge), as annToRLE does for a polygon list.
Rle RleFromPolygons(const std::vector<std::vector<double>>& polygons, uint32_t h, uint32_t w);
// A box [x, y, width, height] as a mask (rleFrBbox).
Rle RleFromBbox(const std::array<double, 4>& bbox, uint32_t h, uint32_t w);

// Union (intersect=false) or intersection of masks of the same size (rleMerge).
Rle RleMerge(const std::vector<Rle>& rles, bool intersect);
// Number of foreground pixels (rleArea).
uint64_t RleArea(const Rle& rle);
// Tight box [x, y, width, height] of the foreground (rleToBbox).
std::array<double, 4> RleToBbox(const Rle& rle);

// IoU matrices as pycocotools' maskUtils.iou: result[i * gt.size() + j] = IoU(dt[i], gt[j]); for a
// crowd gt the union is the detection's area. Computed on the runs, without decoding.
std::vector<double> RleIou(const std::vector<Rle>& dt, const std::vector<Rle>& gt,
                           const std::vector<bool>& gt_is_crowd);
std::vector<double> BboxIou(const std::vector<std::array<double, 4>>& dt,
                            const std::vector<std::array<double, 4>>& gt,
                            const std::vector<bool>& gt_is_crowd);

// The same two functions without copies, for hot loops: dt/gt are m and n items (RLE pointers or
// contiguous boxes), gt_is_crowd has n flags (or is null), out receives m * n values, out[i * n + j].
void RleIouInto(const Rle* const* dt, size_t m, const Rle* const* gt, size_t n, const uint8_t* gt_is_crowd,
                double* out);
void BboxIouInto(const std::array<double, 4>* dt, size_t m, const std::array<double, 4>* gt, size_t n,
                 const uint8_t* gt_is_crowd, double* out);

}  // namespace segtune
