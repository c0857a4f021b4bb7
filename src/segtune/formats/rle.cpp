// A literal port of pycocotools' common/maskApi.c. The arithmetic (uint32 counts, int boundary
// points, truncating casts, the scale-5 polygon walk) is kept as in the C so that every mask, area,
// box and IoU is bit-identical to pycocotools. Only undefined behaviour in the C (casting NaN to int,
// reading counts of an empty RLE) is given the value x86-64 produces or a safe equivalent.
#include "segtune/formats/rle.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "segtune/core/error.h"

namespace segtune {
namespace {

// (int)d as compiled by gcc on x86-64 (cvttsd2si): truncation toward zero, and INT_MIN for NaN and
// out-of-range values. maskApi.c relies on this for zero-length polygon edges (0/0 slopes).
int TruncToInt(double d) {
  if (!(d > -2147483649.0 && d < 2147483648.0)) return std::numeric_limits<int>::min();
  return static_cast<int>(d);
}

// The first run of an RLE, treating "no runs" as one empty run (the C would read past the array).
uint32_t FirstRun(const Rle& r) { return r.counts.empty() ? 0 : r.counts[0]; }

// rleFrPoly's point budget: beyond this the boundary walk would need gigabytes.
constexpr double kMaxPolygonCoordinate = 1e6;

}  // namespace

Rle RleEncode(const uint8_t* mask, uint32_t h, uint32_t w) {
  Rle r;
  r.h = h;
  r.w = w;
  uint8_t p = 0;
  uint32_t c = 0;
  for (uint32_t x = 0; x < w; ++x) {
    for (uint32_t y = 0; y < h; ++y) {
      const uint8_t v = mask[static_cast<size_t>(y) * w + x] ? 1 : 0;
      if (v != p) {
        r.counts.push_back(c);
        c = 0;
        p = v;
      }
      ++c;
    }
  }
  r.counts.push_back(c);
  return r;
}

// Runs go down columns. A mask with few foreground pixels (the usual instance mask) is zeroed and
// its runs of ones written straight to their row-major places, one strided write per foreground
// pixel. A denser mask is filled column-major with memset into a scratch buffer that is then
// transposed in cache-sized tiles (TransposeBytes): 4-8x faster on a full 1000x1000 mask than
// scattering every pixel, but a full pass over the image that sparse masks do not need.
namespace {

size_t ForegroundPixels(const Rle& rle) {
  size_t ones = 0;
  for (size_t i = 1; i < rle.counts.size(); i += 2) ones += rle.counts[i];
  return ones;
}

void ScatterRuns(const Rle& rle, uint8_t* mask, size_t total) {
  std::memset(mask, 0, total);
  const size_t h = rle.h, w = rle.w;
  size_t pos = 0;
  bool one = false;
  for (uint32_t run : rle.counts) {
    const size_t n = std::min<size_t>(run, total - pos);
    if (one) {
      size_t x = pos / h, y = pos % h;
      for (size_t k = 0; k < n; ++k) {
        mask[y * w + x] = 1;
        if (++y == h) y = 0, ++x;
      }
    }
    pos += n;
    one = !one;
  }
}

// dst (rows x cols) = transpose of src (cols x rows), both row-major bytes. Square tiles keep both
// the reads and the writes of a tile within a few cache lines per row (a plain double loop strides a
// whole column per byte on one side). cv::transpose (SIMD) is 1.8x faster (0.18 vs 0.31 ms on a
// 1000x1000 mask), but linking OpenCV into the formats layer would cost every verb ~100 ms and
// ~50 MB at start-up (docs/architecture.md); dense decodes are rare next to PNG encoding.
void TransposeBytes(const uint8_t* src, uint8_t* dst, size_t rows, size_t cols) {
  constexpr size_t kTile = 32;
  for (size_t r0 = 0; r0 < rows; r0 += kTile) {
    const size_t r1 = std::min(rows, r0 + kTile);
    for (size_t c0 = 0; c0 < cols; c0 += kTile) {
      const size_t c1 = std::min(cols, c0 + kTile);
      for (size_t c = c0; c < c1; ++c) {
        const uint8_t* in = src + c * rows;
        for (size_t r = r0; r < r1; ++r) dst[r * cols + c] = in[r];
      }
    }
  }
}

}  // namespace

void RleDecode(const Rle& rle, uint8_t* mask) {
  const size_t total = size_t(rle.h) * rle.w;
  if (total == 0) return;
  if (ForegroundPixels(rle) < total / 8) return ScatterRuns(rle, mask, total);
  thread_local std::vector<uint8_t> column_major;  // Reused: decoding is per annotation in hot loops.
  column_major.assign(total, 0);
  size_t pos = 0;
  bool one = false;
  for (uint32_t run : rle.counts) {
    const size_t n = std::min<size_t>(run, total - pos);
    if (one) std::memset(column_major.data() + pos, 1, n);
    pos += n;
    one = !one;
  }
  TransposeBytes(column_major.data(), mask, rle.h, rle.w);
}

Rle RleMerge(const std::vector<Rle>& rles, bool intersect) {
  if (rles.empty()) return Rle{};
  if (rles.size() == 1) return rles[0];
  uint32_t h = rles[0].h, w = rles[0].w;
  std::vector<uint32_t> cnts = rles[0].counts;
  if (cnts.empty()) cnts.push_back(0);
  std::vector<uint32_t> out;
  for (size_t i = 1; i < rles.size(); ++i) {
    const Rle& B = rles[i];
    if (B.h != h || B.w != w) {  // maskApi.c returns an empty 0x0 RLE for mismatched sizes.
      h = w = 0;
      cnts.clear();
      break;
    }
    const std::vector<uint32_t>& A = cnts;
    const size_t am = A.size(), bm = B.counts.size();
    uint32_t ca = A[0], cb = FirstRun(B);
    int v = 0, va = 0, vb = 0, vp;
    size_t a = 1, b = 1;
    uint32_t cc = 0, ct = 1;
    out.clear();
    while (ct > 0) {
      const uint32_t c = std::min(ca, cb);
      cc += c;
      ct = 0;
      ca -= c;
      if (!ca && a < am) {
        ca = A[a++];
        va = !va;
      }
      ct += ca;
      cb -= c;
      if (!cb && b < bm) {
        cb = B.counts[b++];
        vb = !vb;
      }
      ct += cb;
      vp = v;
      v = intersect ? (va && vb) : (va || vb);
      if (v != vp || ct == 0) {
        out.push_back(cc);
        cc = 0;
      }
    }
    cnts.swap(out);
  }
  Rle m;
  m.h = h;
  m.w = w;
  m.counts = std::move(cnts);
  return m;
}

uint64_t RleArea(const Rle& rle) {
  uint64_t a = 0;
  for (size_t j = 1; j < rle.counts.size(); j += 2) a += rle.counts[j];
  return a;
}

std::array<double, 4> RleToBbox(const Rle& rle) {
  const uint32_t h = rle.h, w = rle.w;
  const size_t m = (rle.counts.size() / 2) * 2;
  if (m == 0 || h == 0) return {0, 0, 0, 0};
  uint32_t xs = w, ys = h, xe = 0, ye = 0, cc = 0, xp = 0;
  for (size_t j = 0; j < m; ++j) {
    cc += rle.counts[j];
    const uint32_t t = cc - static_cast<uint32_t>(j % 2);
    const uint32_t y = t % h, x = (t - y) / h;
    if (j % 2 == 0) {
      xp = x;
    } else if (xp < x) {  // A run crossing a column boundary spans the full height.
      ys = 0;
      ye = h - 1;
    }
    xs = std::min(xs, x);
    xe = std::max(xe, x);
    ys = std::min(ys, y);
    ye = std::max(ye, y);
  }
  return {static_cast<double>(xs), static_cast<double>(ys), static_cast<double>(xe - xs + 1),
          static_cast<double>(ye - ys + 1)};
}

Rle RleFromPolygon(const std::vector<double>& xy, uint32_t h, uint32_t w) {
  const size_t k = xy.size() / 2;
  Rle r;
  r.h = h;
  r.w = w;
  if (k == 0) {
    r.counts.push_back(h * w);
    return r;
  }
  for (double c : xy) {
    if (!std::isfinite(c) || std::fabs(c) > kMaxPolygonCoordinate) {
      throw FormatError("polygon coordinate " + std::to_string(c) +
                        " is not a finite pixel coordinate (expected |value| <= 1e6)");
    }
  }
  // Upsample by 5 and walk the boundary densely between consecutive vertices.
  const double scale = 5;
  std::vector<int> x(k + 1), y(k + 1);
  for (size_t j = 0; j < k; ++j) x[j] = TruncToInt(scale * xy[j * 2 + 0] + .5);
  x[k] = x[0];
  for (size_t j = 0; j < k; ++j) y[j] = TruncToInt(scale * xy[j * 2 + 1] + .5);
  y[k] = y[0];
  size_t m = 0;
  for (size_t j = 0; j < k; ++j) {
    m += std::max(static_cast<uint32_t>(std::abs(x[j] - x[j + 1])),
                  static_cast<uint32_t>(std::abs(y[j] - y[j + 1]))) + 1;
  }
  std::vector<int> u(m), v(m);
  m = 0;
  for (size_t j = 0; j < k; ++j) {
    int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const int dx = std::abs(xe - xs), dy = std::abs(ys - ye);
    const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      std::swap(xs, xe);
      std::swap(ys, ye);
    }
    // 0/0 gives NaN for a repeated vertex, exactly as in the C (that point is never used).
    const double s = dx >= dy ? static_cast<double>(ye - ys) / dx : static_cast<double>(xe - xs) / dy;
    if (dx >= dy) {
      for (int d = 0; d <= dx; ++d) {
        const int t = flip ? dx - d : d;
        u[m] = t + xs;
        v[m] = TruncToInt(ys + s * t + .5);
        ++m;
      }
    } else {
      for (int d = 0; d <= dy; ++d) {
        const int t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m] = TruncToInt(xs + s * t + .5);
        ++m;
      }
    }
  }
  // Keep the points where the boundary crosses a pixel column, and downsample.
  const size_t kk = m;
  std::vector<uint32_t> a;
  a.reserve(kk + 1);
  for (size_t j = 1; j < kk; ++j) {
    if (u[j] == u[j - 1]) continue;
    double xd = static_cast<double>(u[j] < u[j - 1] ? u[j] : u[j] - 1);
    xd = (xd + .5) / scale - .5;
    if (std::floor(xd) != xd || xd < 0 || xd > static_cast<double>(static_cast<uint64_t>(w) - 1)) continue;
    double yd = static_cast<double>(v[j] < v[j - 1] ? v[j] : v[j - 1]);
    yd = (yd + .5) / scale - .5;
    if (yd < 0) {
      yd = 0;
    } else if (yd > h) {
      yd = h;
    }
    yd = std::ceil(yd);
    // (uint)(x*(int)h+y) in the C; unsigned arithmetic gives the same bits without overflow UB.
    a.push_back(static_cast<uint32_t>(static_cast<int>(xd)) * h + static_cast<uint32_t>(static_cast<int>(yd)));
  }
  // Run lengths from the sorted column-boundary points.
  a.push_back(h * w);
  std::sort(a.begin(), a.end());
  uint32_t p = 0;
  for (uint32_t& t : a) {
    const uint32_t cur = t;
    t -= p;
    p = cur;
  }
  size_t j = 0;
  r.counts.push_back(a[j++]);
  while (j < a.size()) {
    if (a[j] > 0) {
      r.counts.push_back(a[j++]);
    } else {
      ++j;
      if (j < a.size()) r.counts.back() += a[j++];
    }
  }
  return r;
}

Rle RleFromBbox(const std::array<double, 4>& bb, uint32_t h, uint32_t w) {
  const double xs = bb[0], xe = xs + bb[2];
  const double ys = bb[1], ye = ys + bb[3];
  return RleFromPolygon({xs, ys, xs, ye, xe, ye, xe, ys}, h, w);
}

Rle RleFromPolygons(const std::vector<std::vector<double>>& polygons, uint32_t h, uint32_t w) {
  if (polygons.empty()) {
    Rle r;
    r.h = h;
    r.w = w;
    r.counts.push_back(h * w);
    return r;
  }
  // frPyObjects reads a list whose first element has 4 numbers as a list of [x,y,w,h] boxes.
  const bool boxes = polygons[0].size() == 4;
  std::vector<Rle> parts;
  parts.reserve(polygons.size());
  for (const auto& poly : polygons) {
    if (boxes && poly.size() == 4) {
      parts.push_back(RleFromBbox({poly[0], poly[1], poly[2], poly[3]}, h, w));
    } else {
      parts.push_back(RleFromPolygon(poly, h, w));
    }
  }
  return RleMerge(parts, /*intersect=*/false);
}

std::string RleToString(const Rle& rle) {
  // Like LEB128 but 6 bits per char (ASCII 48..111); counts after the second are deltas.
  std::string s;
  const size_t m = rle.counts.size();
  s.reserve(m * 2);
  for (size_t i = 0; i < m; ++i) {
    int64_t x = rle.counts[i];
    if (i > 2) x -= static_cast<int64_t>(rle.counts[i - 2]);
    bool more = true;
    while (more) {
      char c = static_cast<char>(x & 0x1f);
      x >>= 5;
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s.push_back(static_cast<char>(c + 48));
    }
  }
  return s;
}

Rle RleFromString(const std::string& s, uint32_t h, uint32_t w) {
  Rle r;
  r.h = h;
  r.w = w;
  size_t p = 0;
  while (p < s.size()) {
    int64_t x = 0;
    int k = 0;
    bool more = true;
    while (more) {
      if (p >= s.size()) {
        throw FormatError("RLE counts string ends inside a number at character " + std::to_string(p));
      }
      const int c = static_cast<int>(static_cast<unsigned char>(s[p])) - 48;
      if (c < 0 || c > 63) {
        throw FormatError("RLE counts string has invalid character '" + std::string(1, s[p]) +
                          "' at position " + std::to_string(p) + " (expected ASCII 48..111)");
      }
      if (k >= 12) throw FormatError("RLE counts string has a number too long at position " + std::to_string(p));
      x |= static_cast<int64_t>(c & 0x1f) << (5 * k);
      more = c & 0x20;
      ++p;
      ++k;
      if (!more && (c & 0x10)) x |= static_cast<int64_t>(-1) * (int64_t{1} << (5 * k));
    }
    const size_t m = r.counts.size();
    if (m > 2) x += static_cast<int64_t>(r.counts[m - 2]);
    r.counts.push_back(static_cast<uint32_t>(x));
  }
  uint64_t total = 0;
  for (uint32_t c : r.counts) total += c;
  if (total != static_cast<uint64_t>(h) * w) {
    throw FormatError("RLE counts sum to " + std::to_string(total) + " pixels but size is " + std::to_string(h) +
                      "x" + std::to_string(w) + " = " + std::to_string(static_cast<uint64_t>(h) * w));
  }
  return r;
}

void BboxIouInto(const std::array<double, 4>* dt, size_t m, const std::array<double, 4>* gt, size_t n,
                 const uint8_t* gt_is_crowd, double* o) {
  for (size_t g = 0; g < n; ++g) {
    const auto& G = gt[g];
    const double ga = G[2] * G[3];
    const bool crowd = gt_is_crowd != nullptr && gt_is_crowd[g];
    for (size_t d = 0; d < m; ++d) {
      const auto& D = dt[d];
      const double da = D[2] * D[3];
      o[d * n + g] = 0;
      const double iw = std::fmin(D[2] + D[0], G[2] + G[0]) - std::fmax(D[0], G[0]);
      if (iw <= 0) continue;
      const double ih = std::fmin(D[3] + D[1], G[3] + G[1]) - std::fmax(D[1], G[1]);
      if (ih <= 0) continue;
      const double i = iw * ih;
      const double u = crowd ? da : da + ga - i;
      o[d * n + g] = i / u;
    }
  }
}

namespace {
std::vector<uint8_t> CrowdFlags(const std::vector<bool>& gt_is_crowd, size_t n) {
  std::vector<uint8_t> flags(n, 0);
  for (size_t g = 0; g < n && g < gt_is_crowd.size(); ++g) flags[g] = gt_is_crowd[g];
  return flags;
}
}  // namespace

std::vector<double> BboxIou(const std::vector<std::array<double, 4>>& dt,
                            const std::vector<std::array<double, 4>>& gt, const std::vector<bool>& gt_is_crowd) {
  std::vector<double> o(dt.size() * gt.size(), 0.0);
  const auto crowd = CrowdFlags(gt_is_crowd, gt.size());
  BboxIouInto(dt.data(), dt.size(), gt.data(), gt.size(), crowd.data(), o.data());
  return o;
}

// Intersection and union pixel counts of two same-size RLEs, walking both run lists at once.
static void RunOverlap(const Rle& dt, const Rle& gt, uint32_t* inter, uint32_t* uni) {
  uint32_t ca = FirstRun(dt), cb = FirstRun(gt), ct = 1, i = 0, u = 0;
  const size_t ka = dt.counts.size(), kb = gt.counts.size();
  size_t a = 1, b = 1;
  int va = 0, vb = 0;
  while (ct > 0) {
    const uint32_t c = std::min(ca, cb);
    if (va || vb) {
      u += c;
      if (va && vb) i += c;
    }
    ct = 0;
    ca -= c;
    if (!ca && a < ka) {
      ca = dt.counts[a++];
      va = !va;
    }
    ct += ca;
    cb -= c;
    if (!cb && b < kb) {
      cb = gt.counts[b++];
      vb = !vb;
    }
    ct += cb;
  }
  *inter = i;
  *uni = u;
}

void RleIouInto(const Rle* const* dt, size_t m, const Rle* const* gt, size_t n, const uint8_t* gt_is_crowd,
                double* o) {
  // As in maskApi.c, the runs are only walked where the boxes overlap. Small stack buffers avoid
  // allocations for the typical handful of objects per image and category.
  constexpr size_t kStack = 64;
  std::array<double, 4> db_stack[kStack], gb_stack[kStack];
  std::vector<std::array<double, 4>> db_heap, gb_heap;
  std::array<double, 4>* db = db_stack;
  std::array<double, 4>* gb = gb_stack;
  if (m > kStack) db_heap.resize(m), db = db_heap.data();
  if (n > kStack) gb_heap.resize(n), gb = gb_heap.data();
  for (size_t d = 0; d < m; ++d) db[d] = RleToBbox(*dt[d]);
  for (size_t g = 0; g < n; ++g) gb[g] = RleToBbox(*gt[g]);
  BboxIouInto(db, m, gb, n, gt_is_crowd, o);
  for (size_t g = 0; g < n; ++g) {
    const bool crowd = gt_is_crowd != nullptr && gt_is_crowd[g];
    for (size_t d = 0; d < m; ++d) {
      double& out = o[d * n + g];
      if (!(out > 0)) continue;
      if (dt[d]->h != gt[g]->h || dt[d]->w != gt[g]->w) {
        out = -1;
        continue;
      }
      uint32_t i, u;
      RunOverlap(*dt[d], *gt[g], &i, &u);
      if (i == 0) {
        u = 1;
      } else if (crowd) {
        u = static_cast<uint32_t>(RleArea(*dt[d]));
      }
      out = static_cast<double>(i) / static_cast<double>(u);
    }
  }
}

std::vector<double> RleIou(const std::vector<Rle>& dt, const std::vector<Rle>& gt,
                           const std::vector<bool>& gt_is_crowd) {
  std::vector<const Rle*> dp, gp;
  for (const Rle& r : dt) dp.push_back(&r);
  for (const Rle& r : gt) gp.push_back(&r);
  std::vector<double> o(dt.size() * gt.size(), 0.0);
  const auto crowd = CrowdFlags(gt_is_crowd, gt.size());
  RleIouInto(dp.data(), dp.size(), gp.data(), gp.size(), crowd.data(), o.data());
  return o;
}

}  // namespace segtune
