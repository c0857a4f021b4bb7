// Predictions (a COCO results file, a prediction TFRecord) know only image ids and category ids; the
// dataset they were made on (a COCO file, typically from `segtune labelbox2coco`) knows the rest:
// image sizes and file names, category names, and the labeling tool's ids kept in `extra` (Labelbox
// data row ids, the ontology tool of each class). This joins the two (docs/formats.md §18).
#pragma once

#include <filesystem>
#include <vector>

#include "segtune/data/convert/labeled_dataset.h"

namespace segtune {

// The reference's images and categories with `results` as annotations (ids renumbered 1..N, scores
// kept). Throws FormatError naming `results_file` and "results[i]" for an image id or category id the
// reference (named by `reference_file`) does not have.
LabeledDataset PredictionsOnReference(std::vector<CocoAnnotation> results, const CocoDataset& reference,
                                      const std::filesystem::path& results_file,
                                      const std::filesystem::path& reference_file);

// Gives each image of `predictions` the reference image with the same id (or, failing that, the same
// file name without folders): its extra, URLs and size; images the reference lacks are kept and
// warned about. Replaces the categories with the reference's. Throws FormatError naming `input` and the
// image for a category id the reference does not have.
void ApplyReference(LabeledDataset* predictions, const CocoDataset& reference, const std::filesystem::path& input,
                    const std::filesystem::path& reference_file, ConversionReport* report);

}  // namespace segtune
