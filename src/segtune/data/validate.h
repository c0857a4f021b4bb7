// `segtune validate`: finds the problems that make a COCO dataset train badly or crash a loader, and
// optionally writes a corrected copy.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "segtune/formats/coco.h"

namespace segtune {

enum class CocoProblem {
  kDuplicateImageId,
  kDuplicateCategoryId,
  kDuplicateAnnotationId,
  kUnknownImage,          // Annotation's image_id is not in images.
  kUnknownCategory,       // Annotation's category_id is not in categories.
  kDegenerateGeometry,    // Polygon part with < 3 points or zero area, empty box, empty RLE.
  kOutOfBounds,           // bbox or polygon beyond the image, or an RLE of another size.
  kBboxMismatch,          // IoU(bbox, segmentation bounds) < 0.9.
  kYFlippedBbox,          // bbox is the segmentation bounds mirrored vertically (y' = H - y - h).
  kMissingImage,          // With an images dir: file not found.
  kUnreadableImage,       // With an images dir: not decodable.
  kImageSizeMismatch,     // With an images dir: width/height differ from the file (or are 0).
};

// "annotations out of image bounds", ...
std::string DescribeProblem(CocoProblem problem);

struct ProblemFindings {
  int count = 0;
  std::vector<std::string> examples;  // The first few, naming the element ("annotations[12] (id 13)").
};

struct ValidationReport {
  std::map<CocoProblem, ProblemFindings> findings;
  bool images_checked = false;
  int total() const;
};

// Checks `dataset`. With a non-empty images_dir, also opens every image (file_name relative to it,
// or absolute; URLs are not checked). Never throws for a problem in the data; all go in the report.
ValidationReport ValidateCoco(const CocoDataset& dataset, const std::filesystem::path& images_dir,
                              int max_examples = 5);

// A corrected copy: duplicate image/category entries dropped (first kept), duplicate annotation ids
// renumbered, annotations on unknown images or categories dropped, polygons clipped to the image and
// degenerate parts removed (annotations with nothing left dropped), bbox recomputed from the
// segmentation (clipped to the image), area recomputed where the geometry changed, width/height taken
// from the image files when images_dir is given. Missing or unreadable images are kept (and left
// reported). Each kind of change is described in *changes with its count.
CocoDataset FixCoco(const CocoDataset& dataset, const std::filesystem::path& images_dir,
                    std::vector<std::string>* changes);

struct ValidateOptions {
  std::filesystem::path input;
  // The input's annotation format (data/convert names, or "auto"). RunValidate reads only "coco";
  // `validate --from` reads other formats in the plugin and passes the dataset to ValidateDataset.
  std::string from = "coco";
  std::filesystem::path images_dir;  // Empty: image files are not checked.
  bool fix = false;
  std::filesystem::path output;      // Required with fix.
  // Replace an existing output that is a JSON object, or the input itself when output names it
  // (fixing in place). Without it either is refused (core/output_guard.h).
  bool overwrite = false;
};

// What `segtune validate --fix` changed and wrote.
struct ValidateFixResult {
  std::vector<std::string> changes;  // FixCoco's; empty when nothing needed changing.
  ValidationReport remaining;        // The fixed copy validated again (counts only): what FixCoco cannot fix.
  std::filesystem::path output;      // Where the fixed copy was written.
};

// What `segtune validate` found, and with --fix what it did.
struct ValidateResult {
  std::filesystem::path input;
  std::string format;                                  // The format it was read as, when not plain COCO.
  std::vector<std::string> read_warnings;              // What its reader could not carry over.
  size_t images = 0, categories = 0, annotations = 0;  // In the input, for the report's first line.
  ValidationReport report;                             // Of the input: its total() decides the exit code.
  std::optional<ValidateFixResult> fix;                // With options.fix.
};

// Loads, validates, and with fix writes the corrected copy (its output checked before anything is
// read). Problems in the data are results, not errors: the caller decides the exit code. Throws
// UsageError for --fix without an output or an output that may not be replaced, IoError/FormatError
// for an input that cannot be read as COCO.
ValidateResult RunValidate(const ValidateOptions& options);

// The checks RunValidate makes before reading: --fix needs an output, which may replace a previous
// COCO output (with overwrite), or the input itself only when the input is COCO (with overwrite).
// Throws UsageError.
void CheckValidateOutput(const ValidateOptions& options);

// RunValidate's work on a dataset the caller read (validate --from): validates it (image files under
// options.images_dir when set) and with fix writes the corrected copy as COCO JSON.
ValidateResult ValidateDataset(const CocoDataset& dataset, const ValidateOptions& options);

// The report `segtune validate` prints: the input's counts, each problem kind with its examples, the
// total, and with fix the changes and what the fixed copy still has. Not the "wrote" line: the CLI
// prints where outputs went.
std::string FormatValidateResult(const ValidateResult& result);

}  // namespace segtune
