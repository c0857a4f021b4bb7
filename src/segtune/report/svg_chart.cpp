#include "segtune/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace segtune::report {
namespace {

constexpr double kWidth = 640, kHeight = 300;
constexpr double kLeft = 64, kRight = 150, kTop = 34, kBottom = 44;

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
  // A range with room: a flat series still gets a visible band.
  Range Padded() const {
    Range r = *this;
    if (r.hi == r.lo) {
      r.lo -= r.lo == 0 ? 1 : std::fabs(r.lo) * 0.1;
      r.hi += r.hi == 0 ? 1 : std::fabs(r.hi) * 0.1;
    }
    return r;
  }
};

std::string Num(double v) {  // Coordinates: short, locale-free.
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Text(double x, double y, const std::string& text, const std::string& extra = "") {
  return "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\"" + extra + ">" + XmlEscape(text) + "</text>";
}

// The <svg> element of one chart of `kind` ("line-chart", ...), with its title at x = title_x.
std::string Open(const std::string& title, const std::string& kind, double width, double height, double title_x) {
  return "<svg class=\"chart " + kind + "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + Num(width) + " " +
         Num(height) + "\" role=\"img\" aria-label=\"" + XmlEscape(title) + "\">" +
         Text(title_x, 20, title, " class=\"chart-title\"");
}

// Keeps at most kMaxPointsPerSeries finite points: per bucket the first, lowest and highest.
std::vector<std::pair<double, double>> Thin(const std::vector<std::pair<double, double>>& points) {
  std::vector<std::pair<double, double>> finite;
  for (const auto& p : points) {
    if (std::isfinite(p.first) && std::isfinite(p.second)) finite.push_back(p);
  }
  if (finite.size() <= kMaxPointsPerSeries) return finite;
  const size_t buckets = kMaxPointsPerSeries / 3;
  std::vector<std::pair<double, double>> out;
  for (size_t b = 0; b < buckets; ++b) {
    const size_t begin = b * finite.size() / buckets, end = (b + 1) * finite.size() / buckets;
    size_t lo = begin, hi = begin;
    for (size_t i = begin; i < end; ++i) {
      if (finite[i].second < finite[lo].second) lo = i;
      if (finite[i].second > finite[hi].second) hi = i;
    }
    std::vector<size_t> keep{begin, lo, hi};
    std::sort(keep.begin(), keep.end());
    keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
    for (size_t i : keep) out.push_back(finite[i]);
  }
  if (out.back() != finite.back()) out.push_back(finite.back());  // The last value is what people read.
  return out;
}

// Round tick values inside [lo, hi]: steps of 1, 2 or 5 times a power of ten, about four of them.
std::vector<double> NiceTicks(double lo, double hi) {
  const double raw = (hi - lo) / 4;
  const double power = std::pow(10, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * power;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9 && ticks.size() < 12; v += step) {
    ticks.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
  }
  return ticks;
}

std::string Axes(const Range& x, const Range& y, const std::string& x_label, const std::string& y_label) {
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  std::string s = "<g class=\"axes\">";
  for (double vy : NiceTicks(y.lo, y.hi)) {
    const double fy = kTop + plot_h * (1 - (vy - y.lo) / (y.hi - y.lo));
    s += "<line x1=\"" + Num(kLeft) + "\" x2=\"" + Num(kLeft + plot_w) + "\" y1=\"" + Num(fy) + "\" y2=\"" + Num(fy) +
         "\" class=\"grid\"/>" + Text(kLeft - 6, fy + 4, FormatNumber(vy), " text-anchor=\"end\"");
  }
  for (double vx : NiceTicks(x.lo, x.hi)) {
    const double fx = kLeft + plot_w * (vx - x.lo) / (x.hi - x.lo);
    s += Text(fx, kTop + plot_h + 16, FormatNumber(vx), " text-anchor=\"middle\"");
  }
  s += Text(kLeft + plot_w / 2, kHeight - 6, x_label, " text-anchor=\"middle\" class=\"axis-label\"");
  s += Text(14, kTop + plot_h / 2, y_label,
            " text-anchor=\"middle\" class=\"axis-label\" transform=\"rotate(-90 14 " + Num(kTop + plot_h / 2) + ")\"");
  return s + "</g>";
}

}  // namespace

std::string FormatNumber(double value) {
  if (!std::isfinite(value)) return "n/a";
  char buf[32];
  if (value != 0 && (std::fabs(value) >= 1e6 || std::fabs(value) < 1e-3)) {
    std::snprintf(buf, sizeof buf, "%.3g", value);
  } else if (std::fabs(value) >= 1000 || value == std::round(value)) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
  } else {
    std::snprintf(buf, sizeof buf, "%.4f", value);
    std::string s = buf;
    s.erase(s.find_last_not_of('0') + 1);  // "0.5000" -> "0.5"
    if (s.back() == '.') s.pop_back();
    return s;
  }
  return buf;
}

std::string SeriesColour(size_t i) {
  static const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                                   "#17becf"};
  return kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
}

std::string LineChartSvg(const LineChart& chart) {
  std::vector<std::vector<std::pair<double, double>>> drawn;
  Range x, y;
  for (const Series& s : chart.series) {
    drawn.push_back(Thin(s.points));
    for (const auto& [px, py] : drawn.back()) {
      x.Add(px);
      y.Add(py);
    }
  }
  std::string svg = Open(chart.title, "line-chart", kWidth, kHeight, kLeft);
  if (x.empty()) return svg + Text(kLeft, kHeight / 2, "no data") + "</svg>";
  x = x.Padded();
  y = y.Padded();
  svg += Axes(x, y, chart.x_label, chart.y_label);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const auto px_of = [&](double v) { return kLeft + (v - x.lo) / (x.hi - x.lo) * plot_w; };
  const auto py_of = [&](double v) { return kTop + (1 - (v - y.lo) / (y.hi - y.lo)) * plot_h; };
  for (const VerticalLine& line : chart.lines) {
    if (line.x < x.lo || line.x > x.hi) continue;
    svg += "<line class=\"event\" x1=\"" + Num(px_of(line.x)) + "\" x2=\"" + Num(px_of(line.x)) + "\" y1=\"" +
           Num(kTop) + "\" y2=\"" + Num(kTop + plot_h) + "\" stroke=\"" + SeriesColour(line.series) +
           "\" stroke-dasharray=\"4 3\" data-x=\"" + FormatNumber(line.x) + "\"><title>" + XmlEscape(line.label) +
           "</title></line>";
  }
  for (size_t i = 0; i < chart.series.size(); ++i) {
    if (drawn[i].empty()) continue;
    std::string points;
    for (const auto& [px, py] : drawn[i]) {
      points += Num(px_of(px)) + "," + Num(py_of(py)) + " ";
    }
    const auto& last = drawn[i].back();
    svg += "<polyline class=\"series\" fill=\"none\" stroke-width=\"1.5\" stroke=\"" + SeriesColour(i) +
           "\" data-series=\"" + XmlEscape(chart.series[i].name) + "\" data-last-x=\"" + FormatNumber(last.first) +
           "\" data-last-y=\"" + FormatNumber(last.second) + "\" points=\"" + points + "\"><title>" +
           XmlEscape(chart.series[i].name + ": " + FormatNumber(last.second) + " at " + chart.x_label + " " +
                     FormatNumber(last.first)) +
           "</title></polyline>";
    const double ly = kTop + 14 + 16.0 * static_cast<double>(i);
    svg += "<rect x=\"" + Num(kWidth - kRight + 12) + "\" y=\"" + Num(ly - 9) + "\" width=\"10\" height=\"10\" fill=\"" +
           SeriesColour(i) + "\"/>" + Text(kWidth - kRight + 26, ly, chart.series[i].name, " class=\"legend\"");
  }
  for (const Marker& m : chart.markers) {
    if (!std::isfinite(m.y)) continue;
    svg += "<circle class=\"marker\" cx=\"" + Num(px_of(m.x)) + "\" cy=\"" + Num(py_of(m.y)) +
           "\" r=\"5\" fill=\"none\" stroke-width=\"2\" stroke=\"" + SeriesColour(m.series) + "\" data-x=\"" +
           FormatNumber(m.x) + "\" data-y=\"" + FormatNumber(m.y) + "\"><title>" + XmlEscape(m.label) + "</title></circle>";
  }
  return svg + "</svg>";
}

std::string BarChartSvg(const BarChart& chart) {
  const double row = 18, height = kTop + row * static_cast<double>(chart.bars.size()) + 24;
  const double label_w = 150, plot_w = kWidth - label_w - 80;
  std::string svg = Open(chart.title, "bar-chart", kWidth, height, 8);
  const double max = chart.max_value > 0 ? chart.max_value : 1;
  for (size_t i = 0; i < chart.bars.size(); ++i) {
    const Bar& bar = chart.bars[i];
    const double y = kTop + row * static_cast<double>(i);
    svg += Text(label_w - 6, y + 12, bar.label, " text-anchor=\"end\"");
    const std::string value = FormatNumber(bar.value);
    if (std::isfinite(bar.value)) {
      const double w = std::clamp(bar.value / max, 0.0, 1.0) * plot_w;
      svg += "<rect class=\"bar\" x=\"" + Num(label_w) + "\" y=\"" + Num(y + 2) + "\" width=\"" + Num(w) +
             "\" height=\"" + Num(row - 4) + "\" fill=\"" + SeriesColour(0) + "\" data-label=\"" +
             XmlEscape(bar.label) + "\" data-value=\"" + value + "\"><title>" +
             XmlEscape(bar.label + ": " + chart.value_label + " " + value) + "</title></rect>";
      svg += Text(label_w + w + 4, y + 12, value);
    } else {
      svg += Text(label_w + 4, y + 12, "n/a", " class=\"muted\"");
    }
  }
  return svg + "</svg>";
}

std::string HeatmapSvg(const Heatmap& heatmap) {
  const size_t rows = heatmap.row_labels.size(), cols = heatmap.column_labels.size();
  const double label_w = 130, top = 120;
  const double cell = std::clamp(440.0 / static_cast<double>(std::max<size_t>(1, std::max(rows, cols))), 6.0, 36.0);
  // At least a line chart's width: the page scales every chart to the same width, and a narrower
  // view box would blow a few classes up to giant cells and cut the title off.
  const double width = std::max(540.0, label_w + cell * static_cast<double>(cols) + 20);
  const double height = top + cell * static_cast<double>(rows) + 20;
  std::string svg = Open(heatmap.title, "heatmap", width, height, 8);
  for (size_t c = 0; c < cols; ++c) {
    const double x = label_w + cell * (static_cast<double>(c) + 0.5);
    svg += Text(x, top - 6, heatmap.column_labels[c],
                " text-anchor=\"start\" transform=\"rotate(-60 " + Num(x) + " " + Num(top - 6) + ")\"");
  }
  for (size_t r = 0; r < rows; ++r) {
    const double y = top + cell * static_cast<double>(r);
    svg += Text(label_w - 6, y + cell * 0.7, heatmap.row_labels[r], " text-anchor=\"end\"");
    for (size_t c = 0; c < cols; ++c) {
      const double v = r < heatmap.values.size() && c < heatmap.values[r].size() ? heatmap.values[r][c] : 0;
      const long long n = r < heatmap.counts.size() && c < heatmap.counts[r].size() ? heatmap.counts[r][c] : 0;
      const int shade = static_cast<int>(std::lround(255 * (1 - std::clamp(std::isfinite(v) ? v : 0, 0.0, 1.0))));
      char fill[16];
      std::snprintf(fill, sizeof fill, "#%02x%02xff", shade, shade);
      svg += "<rect class=\"cell\" x=\"" + Num(label_w + cell * static_cast<double>(c)) + "\" y=\"" + Num(y) +
             "\" width=\"" + Num(cell) + "\" height=\"" + Num(cell) + "\" fill=\"" + fill + "\" data-count=\"" +
             std::to_string(n) + "\"><title>" +
             XmlEscape("ground truth " + heatmap.row_labels[r] + ", predicted " + heatmap.column_labels[c] + ": " +
                       std::to_string(n) + " (" + FormatNumber(v) + " of the row)") +
             "</title></rect>";
    }
  }
  return svg + "</svg>";
}

}  // namespace segtune::report
