#include "segtune/data/synth/synth_shapes.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "segtune/core/error.h"
#include "segtune/data/synth/synth_paint.h"

namespace segtune::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMargin = 2.0;  // Canvas pixels around the silhouette, so sampling never hits the edge.

std::vector<cv::Point> ToInt(const std::vector<cv::Point2f>& points) {
  std::vector<cv::Point> out;
  out.reserve(points.size());
  for (const auto& p : points) out.emplace_back(cvRound(p.x), cvRound(p.y));
  return out;
}

void FillPolygon(cv::Mat& canvas, const std::vector<cv::Point2f>& polygon, cv::Vec3b color) {
  const std::vector<std::vector<cv::Point>> polys{ToInt(polygon)};
  cv::fillPoly(canvas, polys, ToScalar(color), cv::LINE_AA);
}

// Points on the ellipse arc centred at c with radii (rx, ry) from angle a0 to a1 (radians, y down).
void AppendArc(std::vector<cv::Point2f>& out, cv::Point2f c, double rx, double ry, double a0, double a1, int steps) {
  for (int i = 0; i <= steps; ++i) {
    const double a = a0 + (a1 - a0) * i / steps;
    out.emplace_back(float(c.x + rx * std::cos(a)), float(c.y + ry * std::sin(a)));
  }
}

// A right-hand profile (x offsets from the axis, listed bottom to top) mirrored into a closed outline.
std::vector<cv::Point2f> MirrorProfile(const std::vector<cv::Point2f>& right, double axis) {
  std::vector<cv::Point2f> outline = right;
  for (auto it = right.rbegin(); it != right.rend(); ++it) outline.emplace_back(float(2 * axis - it->x), it->y);
  return outline;
}

int ArcSteps(double radius) { return std::clamp(int(radius / 2), 4, 24); }

// "Printed text": rows of short dark dashes inside the rectangle r.
void DrawTextLines(cv::Mat& canvas, cv::Rect2d r, cv::Vec3b ink, Random& rng) {
  const double line_h = std::max(1.5, r.height / rng.Int(2, 4));
  for (double y = r.y + line_h * 0.3; y + line_h * 0.4 < r.y + r.height; y += line_h) {
    for (double x = r.x; x < r.x + r.width;) {
      const double w = rng.Uniform(0.08, 0.3) * r.width;
      const double end = std::min(r.x + r.width, x + w);
      cv::rectangle(canvas, cv::Point2d(x, y), cv::Point2d(end, y + line_h * 0.4), ToScalar(ink), cv::FILLED);
      x = end + rng.Uniform(0.03, 0.08) * r.width;
    }
  }
}

cv::Vec3b GlassColor(Random& rng, double* opacity) {
  switch (rng.Int(0, 3)) {
    case 0: *opacity = rng.Uniform(0.8, 0.92); return HsvColor(rng.Uniform(95, 150), rng.Uniform(0.5, 0.85), rng.Uniform(0.25, 0.55));
    case 1: *opacity = rng.Uniform(0.8, 0.92); return HsvColor(rng.Uniform(20, 38), rng.Uniform(0.7, 0.95), rng.Uniform(0.2, 0.45));
    case 2: *opacity = rng.Uniform(0.6, 0.75); return HsvColor(rng.Uniform(170, 215), rng.Uniform(0.05, 0.25), rng.Uniform(0.7, 0.92));
    default: *opacity = 1.0; return RandomColor(rng, 0.3, 0.85, 0.45, 0.95);  // Plastic.
  }
}

Sprite DrawBottle(double size, Random& rng) {
  const double h = size;
  const double body_w = h * rng.Uniform(0.26, 0.36), neck_w = body_w * rng.Uniform(0.3, 0.42);
  const double cap_w = neck_w * rng.Uniform(1.08, 1.22), cap_h = h * rng.Uniform(0.05, 0.08);
  const double neck_h = h * rng.Uniform(0.1, 0.18), shoulder_h = h * rng.Uniform(0.1, 0.2);
  const double top = kMargin, cap_bottom = top + cap_h, neck_bottom = cap_bottom + neck_h;
  const double shoulder_bottom = neck_bottom + shoulder_h, bottom = top + h;
  const double axis = kMargin + body_w / 2;
  auto half_width = [&](double y) {
    if (y < cap_bottom) return cap_w / 2;
    if (y < neck_bottom) return neck_w / 2;
    if (y < shoulder_bottom) {
      const double t = (shoulder_bottom - y) / shoulder_h;  // 0 at the body, 1 at the neck.
      return neck_w / 2 + (body_w / 2 - neck_w / 2) * (0.5 + 0.5 * std::cos(kPi * t));
    }
    return body_w / 2;
  };

  std::vector<cv::Point2f> right;
  const double corner = body_w * 0.14;
  AppendArc(right, {float(axis + body_w / 2 - corner), float(bottom - corner)}, corner, corner, kPi / 2, 0, 4);
  for (int i = 0; i <= 8; ++i) {
    const double y = shoulder_bottom - shoulder_h * i / 8.0;
    right.emplace_back(float(axis + half_width(y + (i == 8 ? 0.01 : 0))), float(y));
  }
  right.emplace_back(float(axis + neck_w / 2), float(cap_bottom));
  right.emplace_back(float(axis + cap_w / 2), float(cap_bottom));
  right.emplace_back(float(axis + cap_w / 2), float(top + 1));
  right.emplace_back(float(axis + cap_w / 2 - 1), float(top));

  Sprite sprite;
  const cv::Vec3b base = GlassColor(rng, &sprite.opacity);
  sprite.appearance = cv::Mat(int(std::ceil(bottom + kMargin)), int(std::ceil(body_w + 2 * kMargin)), CV_8UC3, ToScalar(base));
  cv::Mat& c = sprite.appearance;
  if (rng.Chance(0.75)) {  // Paper label around the body.
    const double body_len = bottom - shoulder_bottom;
    const double y0 = shoulder_bottom + body_len * rng.Uniform(0.1, 0.3), y1 = y0 + body_len * rng.Uniform(0.25, 0.5);
    const cv::Vec3b paper = RandomColor(rng, 0.0, 0.9, 0.6, 1.0);
    cv::rectangle(c, cv::Point2d(0, y0), cv::Point2d(c.cols, y1), ToScalar(paper), cv::FILLED);
    if (rng.Chance(0.5)) {
      cv::rectangle(c, cv::Point2d(0, y0 + (y1 - y0) * 0.35), cv::Point2d(c.cols, y0 + (y1 - y0) * 0.55),
                    ToScalar(RandomColor(rng, 0.5, 1.0, 0.3, 0.9)), cv::FILLED);
    } else {
      DrawTextLines(c, {axis - body_w * 0.3, y0 + 1, body_w * 0.6, y1 - y0 - 2}, Scale(paper, 0.3), rng);
    }
  }
  const cv::Vec3b cap = RandomColor(rng, 0.4, 1.0, 0.4, 1.0);
  cv::rectangle(c, cv::Point2d(0, 0), cv::Point2d(c.cols, cap_bottom), ToScalar(cap), cv::FILLED);
  for (double x = axis - cap_w / 2 + 1; x < axis + cap_w / 2; x += 2.5) {  // Ridges on the cap.
    cv::line(c, cv::Point2d(x, top), cv::Point2d(x, cap_bottom), ToScalar(Scale(cap, 0.8)), 1);
  }
  std::vector<double> widths(size_t(c.rows));
  for (int y = 0; y < c.rows; ++y) widths[size_t(y)] = half_width(y + 0.5);
  ShadeRevolved(c, axis, widths, rng.Uniform(-0.7, 0.7), rng.Uniform(0.35, 0.55),
                sprite.opacity < 1 ? rng.Uniform(0.4, 0.8) : rng.Uniform(0.15, 0.4));
  AddNoise(c, 3, rng);
  sprite.outline = MirrorProfile(right, axis);
  return sprite;
}

Sprite DrawCan(double size, Random& rng) {
  const double h = size, w = h * (rng.Chance(0.25) ? rng.Uniform(0.38, 0.46) : rng.Uniform(0.52, 0.66));
  const double ry = w / 2 * rng.Uniform(0.1, 0.3);  // Lid ellipse: how much of the top we see.
  const double axis = kMargin + w / 2, top = kMargin, bottom = kMargin + h;
  const cv::Point2f lid(float(axis), float(top + ry)), base_center(float(axis), float(bottom - ry));

  Sprite sprite;
  sprite.outline.emplace_back(float(axis + w / 2), float(bottom - ry));
  AppendArc(sprite.outline, lid, w / 2, ry, 0, -kPi, ArcSteps(w));
  AppendArc(sprite.outline, base_center, w / 2, ry, kPi, 0, ArcSteps(w));
  sprite.outline.pop_back();  // The arc's last point repeats the first outline point.

  const bool metal = rng.Chance(0.25);
  const cv::Vec3b body = metal ? HsvColor(rng.Uniform(0, 360), rng.Uniform(0, 0.1), rng.Uniform(0.65, 0.85))
                               : RandomColor(rng, 0.5, 0.95, 0.45, 0.9);
  sprite.appearance = cv::Mat(int(std::ceil(bottom + kMargin)), int(std::ceil(w + 2 * kMargin)), CV_8UC3, ToScalar(body));
  cv::Mat& c = sprite.appearance;
  const cv::Vec3b accent = RandomColor(rng, 0.3, 1.0, 0.5, 1.0);
  switch (rng.Int(0, 2)) {
    case 0:  // Label band.
      cv::rectangle(c, cv::Point2d(0, top + h * 0.35), cv::Point2d(c.cols, top + h * 0.65), ToScalar(accent), cv::FILLED);
      break;
    case 1:  // Logo disc (foreshortened by the curvature).
      cv::ellipse(c, cv::Point2d(axis + w * rng.Uniform(-0.15, 0.15), top + h * 0.5), cv::Size2d(w * 0.3, h * 0.18), 0, 0,
                  360, ToScalar(accent), cv::FILLED, cv::LINE_AA);
      break;
    default:  // Diagonal stripes.
      for (double x = -h; x < c.cols + h; x += w * 0.35) {
        cv::line(c, cv::Point2d(x, bottom), cv::Point2d(x + h * 0.6, top), ToScalar(accent), std::max(1, int(w * 0.08)),
                 cv::LINE_AA);
      }
  }
  ShadeCylinder(c, int(std::floor(axis - w / 2)), int(std::ceil(axis + w / 2)), rng.Uniform(-0.7, 0.7),
                rng.Uniform(0.3, 0.5), rng.Uniform(0.3, 0.7));
  // The lid is flat metal: drawn after the cylinder shading.
  const cv::Vec3b metal_color = HsvColor(0, 0, rng.Uniform(0.6, 0.85));
  cv::ellipse(c, lid, cv::Size2d(w / 2, ry), 0, 0, 360, ToScalar(metal_color), cv::FILLED, cv::LINE_AA);
  cv::ellipse(c, lid, cv::Size2d(w / 2 * 0.85, ry * 0.8), 0, 0, 360, ToScalar(Scale(metal_color, 0.8)), cv::FILLED, cv::LINE_AA);
  cv::ellipse(c, cv::Point2d(axis, top + ry * 1.3), cv::Size2d(w * 0.08, ry * 0.3), 0, 0, 360,
              ToScalar(Scale(metal_color, 0.5)), cv::FILLED, cv::LINE_AA);  // Opening tab.
  cv::ellipse(c, base_center, cv::Size2d(w / 2, ry), 0, 0, 180, ToScalar(Scale(metal_color, 0.7)),
              std::max(1, int(ry * 0.5)), cv::LINE_AA);
  AddNoise(c, 2.5, rng);
  return sprite;
}

Sprite DrawBox(double size, Random& rng) {
  const double depth = size * rng.Uniform(0.12, 0.3), slant = depth * rng.Uniform(0.1, 0.3);
  const double w = (size - depth) * rng.Uniform(0.55, 1.0), h = (size - depth) * rng.Uniform(0.55, 1.0);
  const bool top_face = rng.Chance(0.5);  // Second visible face: the top, else the right side.
  const double m = kMargin;
  std::vector<cv::Point2f> front, second;
  if (top_face) {
    front = {{float(m), float(m + depth)}, {float(m + w), float(m + depth)}, {float(m + w), float(m + depth + h)}, {float(m), float(m + depth + h)}};
    second = {{float(m), float(m + depth)}, {float(m + slant), float(m)}, {float(m + w - slant), float(m)}, {float(m + w), float(m + depth)}};
  } else {
    front = {{float(m), float(m)}, {float(m + w), float(m)}, {float(m + w), float(m + h)}, {float(m), float(m + h)}};
    second = {{float(m + w), float(m)}, {float(m + w + depth), float(m + slant)}, {float(m + w + depth), float(m + h - slant)}, {float(m + w), float(m + h)}};
  }
  Sprite sprite;
  sprite.outline = top_face ? std::vector<cv::Point2f>{second[0], second[1], second[2], second[3], front[2], front[3]}
                            : std::vector<cv::Point2f>{front[0], second[0], second[1], second[2], second[3], front[3]};
  const double canvas_w = top_face ? w : w + depth, canvas_h = top_face ? h + depth : h;
  const bool cardboard = rng.Chance(0.6);
  const cv::Vec3b base = cardboard ? HsvColor(rng.Uniform(24, 38), rng.Uniform(0.35, 0.6), rng.Uniform(0.55, 0.8))
                                   : RandomColor(rng, 0.3, 0.9, 0.45, 0.95);
  sprite.appearance = cv::Mat(int(std::ceil(canvas_h + 2 * m)), int(std::ceil(canvas_w + 2 * m)), CV_8UC3, ToScalar(base));
  cv::Mat& c = sprite.appearance;
  FillPolygon(c, second, Scale(base, top_face ? rng.Uniform(1.1, 1.25) : rng.Uniform(0.6, 0.75)));
  const cv::Point2f f0 = front[0];
  if (rng.Chance(0.7)) {  // Printed logo on the front.
    const cv::Point2d center(f0.x + w * rng.Uniform(0.3, 0.7), f0.y + h * rng.Uniform(0.3, 0.6));
    const cv::Vec3b ink = RandomColor(rng, 0.5, 1.0, 0.2, 0.9);
    if (rng.Chance(0.5)) {
      cv::circle(c, center, int(std::min(w, h) * rng.Uniform(0.12, 0.25)), ToScalar(ink), cv::FILLED, cv::LINE_AA);
    } else {
      cv::rectangle(c, cv::Rect2d(center.x - w * 0.2, center.y - h * 0.12, w * 0.4, h * 0.24), ToScalar(ink), cv::FILLED);
    }
  }
  DrawTextLines(c, {f0.x + w * 0.15, f0.y + h * 0.72, w * 0.7, h * 0.18}, Scale(base, 0.35), rng);
  if (cardboard && rng.Chance(0.6)) {  // Packing tape across the top edge.
    const cv::Vec3b tape = HsvColor(rng.Uniform(25, 45), rng.Uniform(0.2, 0.5), rng.Uniform(0.75, 0.95));
    cv::rectangle(c, cv::Rect2d(f0.x + w * 0.42, 0, w * 0.16, f0.y + h * 0.2), ToScalar(tape), cv::FILLED);
  }
  cv::Mat mottling = SmoothNoise(c.size(), rng.Int(3, 6), rng);
  Modulate(c, mottling, 0.12);
  for (size_t i = 0; i < front.size(); ++i) {  // Darker edges where faces meet.
    cv::line(c, front[i], front[(i + 1) % front.size()], ToScalar(Scale(base, 0.55)), 1, cv::LINE_AA);
  }
  AddNoise(c, cardboard ? 5 : 3, rng);
  if (rng.Chance(0.5)) {  // Mirror: the side face on the left.
    cv::flip(c, c, 1);
    for (auto& p : sprite.outline) p.x = float(c.cols - 1) - p.x;
    std::reverse(sprite.outline.begin(), sprite.outline.end());
  }
  return sprite;
}

Sprite DrawBall(double size, Random& rng) {
  const double r = size / 2, m = kMargin;
  const cv::Point2d center(m + r, m + r);
  Sprite sprite;
  const int points = std::clamp(int(r * 1.2), 20, 72);
  for (int i = 0; i < points; ++i) {
    const double a = 2 * kPi * i / points;
    sprite.outline.emplace_back(float(center.x + r * std::cos(a)), float(center.y + r * std::sin(a)));
  }
  const int n = int(std::ceil(2 * r + 2 * m));
  const cv::Vec3b base = RandomColor(rng, 0.5, 1.0, 0.55, 1.0);
  sprite.appearance = cv::Mat(n, n, CV_8UC3, ToScalar(base));
  cv::Mat& c = sprite.appearance;
  const int pattern = rng.Int(0, 2);
  const std::vector<cv::Vec3b> colors{base, RandomColor(rng, 0.6, 1.0, 0.6, 1.0), HsvColor(0, 0, 0.95)};
  const double pole = rng.Uniform(0, 2 * kPi), spin = rng.Uniform(0, 2 * kPi);
  std::vector<cv::Point2d> spots;
  for (int i = 0; pattern == 2 && i < 7; ++i) spots.emplace_back(center.x + rng.Uniform(-r, r), center.y + rng.Uniform(-r, r));
  const double lx = rng.Uniform(-0.6, 0.6), ly = rng.Uniform(-0.8, -0.3), lz = std::sqrt(std::max(0.0, 1 - lx * lx - ly * ly));
  for (int y = 0; y < n; ++y) {
    auto* row = c.ptr<cv::Vec3b>(y);
    for (int x = 0; x < n; ++x) {
      const double dx = (x + 0.5 - center.x) / r, dy = (y + 0.5 - center.y) / r, d2 = dx * dx + dy * dy;
      if (d2 > 1.2) continue;
      const double nz = std::sqrt(std::max(0.0, 1 - d2));
      cv::Vec3b color = base;
      if (pattern == 1) {  // Beach ball: six coloured gores around a pole.
        const double a = std::atan2(dy * std::cos(pole) - nz * std::sin(pole), dx) + spin;
        color = colors[size_t(int(std::floor(a / (kPi / 3)) + 60) % 3)];
      } else if (pattern == 2) {  // Dark spots.
        for (const auto& s : spots) {
          if (std::hypot(x - s.x, y - s.y) < r * 0.22) color = Scale(base, 0.25);
        }
      }
      const double diffuse = std::max(0.0, dx * lx + dy * ly + nz * lz);
      const double spec = std::pow(std::max(0.0, (dx * lx + dy * ly + nz * (lz + 1)) / std::sqrt(lx * lx + ly * ly + (lz + 1) * (lz + 1))), 30);
      const double gain = 0.3 + 0.75 * diffuse;
      for (int k = 0; k < 3; ++k) row[x][k] = cv::saturate_cast<uchar>(color[k] * gain + 200 * spec);
    }
  }
  AddNoise(c, 2.5, rng);
  return sprite;
}

Sprite DrawCup(double size, Random& rng) {
  const double h = size * rng.Uniform(0.7, 0.95), top_w = std::min(size * 0.72, h * rng.Uniform(0.7, 0.95));
  const double bottom_w = top_w * rng.Uniform(0.7, 0.9), ry = top_w / 2 * rng.Uniform(0.14, 0.3);
  const double handle = top_w * rng.Uniform(0.22, 0.32), m = kMargin;
  const double axis = m + top_w / 2, y_top = m + ry, y_bottom = m + h - ry * bottom_w / top_w;
  auto side = [&](double y) { return top_w / 2 + (bottom_w / 2 - top_w / 2) * (y - y_top) / (y_bottom - y_top); };
  const double h0 = y_top + (y_bottom - y_top) * 0.15, h1 = y_top + (y_bottom - y_top) * 0.7;

  Sprite sprite;
  AppendArc(sprite.outline, {float(axis), float(y_top)}, top_w / 2, ry, -kPi, 0, ArcSteps(top_w));
  for (int i = 0; i <= 12; ++i) {  // Right side, with the handle as a D-shaped bulge.
    const double t = i / 12.0, y = h0 + (h1 - h0) * t;
    sprite.outline.emplace_back(float(axis + side(y) + handle * std::sin(kPi * t)), float(y));
  }
  AppendArc(sprite.outline, {float(axis), float(y_bottom)}, bottom_w / 2, ry * bottom_w / top_w, 0, kPi, ArcSteps(bottom_w));

  const cv::Vec3b base = rng.Chance(0.3) ? HsvColor(0, 0, rng.Uniform(0.85, 0.97)) : RandomColor(rng, 0.2, 0.8, 0.5, 0.95);
  sprite.appearance = cv::Mat(int(std::ceil(m + h + m)), int(std::ceil(top_w + handle + 2 * m)), CV_8UC3, ToScalar(base));
  cv::Mat& c = sprite.appearance;
  if (rng.Chance(0.5)) {  // A band or polka dots.
    const cv::Vec3b deco = RandomColor(rng, 0.5, 1.0, 0.4, 0.9);
    if (rng.Chance(0.5)) {
      cv::rectangle(c, cv::Point2d(0, y_top + h * 0.3), cv::Point2d(axis + top_w / 2, y_top + h * 0.42), ToScalar(deco), cv::FILLED);
    } else {
      for (int i = 0; i < 6; ++i) {
        cv::circle(c, cv::Point2d(axis + rng.Uniform(-0.35, 0.35) * top_w, y_top + rng.Uniform(0.2, 0.8) * h),
                   std::max(1, int(top_w * 0.06)), ToScalar(deco), cv::FILLED, cv::LINE_AA);
      }
    }
  }
  const double light = rng.Uniform(-0.7, 0.7);
  // The handle: shadowed inside, so the solid "ear" reads as a loop.
  cv::ellipse(c, cv::Point2d(axis + side((h0 + h1) / 2), (h0 + h1) / 2), cv::Size2d(handle * 0.55, (h1 - h0) * 0.3), 0, -90, 90,
              ToScalar(Scale(base, 0.45)), cv::FILLED, cv::LINE_AA);
  std::vector<double> widths(size_t(c.rows), 0.0);
  for (int y = 0; y < c.rows; ++y) widths[size_t(y)] = side(std::clamp(y + 0.5, y_top, y_bottom));
  ShadeRevolved(c, axis, widths, light, rng.Uniform(0.4, 0.6), rng.Uniform(0.2, 0.5));
  // The opening: a dark ellipse with a bright rim.
  cv::ellipse(c, cv::Point2d(axis, y_top), cv::Size2d(top_w / 2, ry), 0, 0, 360, ToScalar(Scale(base, 1.1)), cv::FILLED, cv::LINE_AA);
  cv::ellipse(c, cv::Point2d(axis, y_top), cv::Size2d(top_w / 2 * 0.9, ry * 0.75), 0, 0, 360, ToScalar(Scale(base, 0.35)),
              cv::FILLED, cv::LINE_AA);
  AddNoise(c, 2.5, rng);
  return sprite;
}

Sprite DrawSign(double size, Random& rng) {
  const double plate = size * rng.Uniform(0.45, 0.62), pole_len = size - plate, m = kMargin;
  const double pole_w = std::max(2.0, plate * rng.Uniform(0.07, 0.11));
  const int kind = rng.Int(0, 3);  // octagon, triangle, disc, rectangle
  const double plate_w = kind == 3 ? plate * rng.Uniform(0.8, 1.3) : plate;
  const double axis = m + std::max(plate_w, plate) / 2, cy = m + plate / 2, plate_bottom = m + plate;
  // The plate from its bottom-right corner round to its bottom-left one, then the pole.
  std::vector<cv::Point2f> outline;
  double attach_y = plate_bottom;
  if (kind == 0) {
    const double radius = plate / 2 / std::cos(kPi / 8);
    for (int k = 0; k < 8; ++k) {
      const double a = kPi * (67.5 - 45 * k) / 180;
      outline.emplace_back(float(axis + radius * std::cos(a)), float(cy + plate / 2 * std::sin(a) / std::sin(kPi * 67.5 / 180)));
    }
  } else if (kind == 1) {
    outline = {{float(axis + plate / 2), float(plate_bottom)}, {float(axis), float(m)}, {float(axis - plate / 2), float(plate_bottom)}};
  } else if (kind == 2) {
    const double r = plate / 2, delta = std::asin(std::min(1.0, pole_w / 2 / r));
    AppendArc(outline, {float(axis), float(cy)}, r, r, kPi / 2 - delta, -1.5 * kPi + delta, ArcSteps(2 * r) * 2);
    attach_y = cy + r * std::cos(delta);
  } else {
    outline = {{float(axis + plate_w / 2), float(plate_bottom)}, {float(axis + plate_w / 2), float(m)},
               {float(axis - plate_w / 2), float(m)}, {float(axis - plate_w / 2), float(plate_bottom)}};
  }
  const std::vector<cv::Point2f> plate_outline = outline;
  const double pole_bottom = m + size;
  outline.emplace_back(float(axis - pole_w / 2), float(attach_y));
  outline.emplace_back(float(axis - pole_w / 2), float(pole_bottom));
  outline.emplace_back(float(axis + pole_w / 2), float(pole_bottom));
  outline.emplace_back(float(axis + pole_w / 2), float(attach_y));

  Sprite sprite;
  sprite.outline = outline;
  const cv::Vec3b grey = HsvColor(0, 0, rng.Uniform(0.5, 0.75));
  sprite.appearance = cv::Mat(int(std::ceil(pole_bottom + m)), int(std::ceil(2 * axis)), CV_8UC3, ToScalar(grey));
  cv::Mat& c = sprite.appearance;
  ShadeCylinder(c, int(std::floor(axis - pole_w / 2)), int(std::ceil(axis + pole_w / 2)), rng.Uniform(-0.6, 0.6), 0.4, 0.5);
  static const double kHues[] = {0, 55, 220, 130};  // red stop, yellow warning, blue disc, green board.
  const cv::Vec3b border = kind == 1 ? HsvColor(0, 0, 0.1) : HsvColor(0, 0, 0.95);
  const cv::Vec3b fill = HsvColor(kHues[kind] + rng.Uniform(-8, 8), rng.Uniform(0.75, 1.0), rng.Uniform(0.65, 0.95));
  FillPolygon(c, plate_outline, border);
  std::vector<cv::Point2f> inner;  // The plate shrunk towards its centre: the coloured field.
  const cv::Point2f plate_center(float(axis), float(kind == 1 ? m + plate * 0.62 : cy));
  for (const auto& p : plate_outline) inner.push_back(plate_center + (p - plate_center) * 0.84f);
  FillPolygon(c, inner, fill);
  const cv::Vec3b symbol = kind == 1 ? HsvColor(0, 0, 0.08) : HsvColor(0, 0, 0.96);
  if (kind == 3) {
    DrawTextLines(c, {axis - plate_w * 0.32, m + plate * 0.2, plate_w * 0.64, plate * 0.6}, symbol, rng);
  } else if (kind == 1) {
    cv::rectangle(c, cv::Rect2d(axis - plate * 0.04, m + plate * 0.4, plate * 0.08, plate * 0.3), ToScalar(symbol), cv::FILLED);
    cv::circle(c, cv::Point2d(axis, m + plate * 0.8), std::max(1, int(plate * 0.05)), ToScalar(symbol), cv::FILLED, cv::LINE_AA);
  } else {
    cv::rectangle(c, cv::Rect2d(axis - plate * 0.28, cy - plate * 0.07, plate * 0.56, plate * 0.14), ToScalar(symbol), cv::FILLED);
  }
  cv::Mat field = SmoothNoise(c.size(), 3, rng);
  Modulate(c, field, 0.1);
  AddNoise(c, 2.5, rng);
  return sprite;
}

}  // namespace

const std::vector<std::string>& KnownShapeNames() {
  static const std::vector<std::string> names{"bottle", "can", "box", "ball", "cup", "sign"};
  return names;
}

ShapeKind ShapeKindFromName(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  const auto& names = KnownShapeNames();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == lower) return ShapeKind(i);
  }
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  throw UsageError("unknown synthetic class '" + name + "': the generator can draw " + known);
}

Sprite DrawSprite(ShapeKind kind, double size, Random& rng) {
  size = std::max(8.0, size);
  switch (kind) {
    case ShapeKind::kBottle: return DrawBottle(size, rng);
    case ShapeKind::kCan: return DrawCan(size, rng);
    case ShapeKind::kBox: return DrawBox(size, rng);
    case ShapeKind::kBall: return DrawBall(size, rng);
    case ShapeKind::kCup: return DrawCup(size, rng);
    case ShapeKind::kSign: return DrawSign(size, rng);
  }
  throw Error("unreachable shape kind");
}

}  // namespace segtune::synth
