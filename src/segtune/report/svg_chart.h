// Charts as inline SVG text for the HTML report (report.h): no script, no external file, so a
// report opens anywhere, offline. Every mark carries a <title> with its exact value, which browsers
// show on hover and tests can read back.
//
//   LineChart chart{"Loss", "step", "loss", {{"run1", {{0, 1.5}, {10, 0.9}}}}};
//   std::string svg = LineChartSvg(chart);
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "segtune/formats/xml_document.h"  // XmlEscape: text made safe in HTML/SVG elements and attributes.

namespace segtune::report {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending; non-finite y are skipped.
};

// A point to call out on a series (the best checkpoint): a ring with the label as its title.
struct Marker {
  size_t series = 0;  // Index into LineChart::series (its colour).
  double x = 0, y = 0;
  std::string label;
};

// Something that happened at an x (training resumed): a dashed vertical line across the plot.
struct VerticalLine {
  size_t series = 0;
  double x = 0;
  std::string label;
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;  // Several runs overlaid, each in its own colour, with a legend.
  std::vector<Marker> markers;
  std::vector<VerticalLine> lines;
};

struct Bar {
  std::string label;
  double value = 0;   // Drawn from 0; a non-finite value is drawn as "n/a".
};

struct BarChart {
  std::string title;
  std::string value_label;
  std::vector<Bar> bars;
  double max_value = 1;  // The axis end (e.g. 1 for IoU).
};

struct Heatmap {
  std::string title;
  std::vector<std::string> row_labels;     // Ground truth.
  std::vector<std::string> column_labels;  // Prediction.
  std::vector<std::vector<double>> values;       // Shading, in [0, 1] (row-normalized).
  std::vector<std::vector<long long>> counts;    // Shown in each cell's title.
};

// At most this many points per series are drawn: longer series keep each bucket's first, lowest and
// highest point, so spikes stay visible while a 20,000-step run stays a small file.
constexpr size_t kMaxPointsPerSeries = 1500;

std::string LineChartSvg(const LineChart& chart);
std::string BarChartSvg(const BarChart& chart);
std::string HeatmapSvg(const Heatmap& heatmap);

// The colour of series i (a fixed palette, repeated).
std::string SeriesColour(size_t i);

// A number as the report prints it: up to 4 significant decimals ("0.7312", "1520", "n/a" for NaN).
std::string FormatNumber(double value);

}  // namespace segtune::report
