// `segtune report`: one self-contained HTML file (inline CSS and SVG, no script, no network) that
// shows one or more runs side by side (run_data.h says what a run is):
//   Dataset        per records run: images, objects, image sizes, masks present, objects per class,
//                  the problems `records info` finds
//   Training       loss, each loss term, learning rate, images/s and every eval column of
//                  metrics.csv, runs overlaid; per run the last loss and the best evaluation (step)
//   Evaluation     semantic: mIoU, pixel accuracy, mean class accuracy, frequency-weighted IoU,
//                  per-class IoU and accuracy bars, the row-normalized confusion matrix (counts in
//                  each cell's title); detection: the 12 COCO summary numbers, per-class AP / AP50
//   Model card     architecture, classes, input, provenance from model.json
// Each section appears only when some run has its data.
#pragma once

#include <string>
#include <vector>

#include "segtune/report/run_data.h"

namespace segtune::report {

// The HTML text of the report.
std::string RenderReport(const std::vector<RunData>& runs);

}  // namespace segtune::report
