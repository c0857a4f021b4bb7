// Writing a dataset's images into the folder layout of a directory format (YOLO images/<split>/,
// mask folders images/ + masks/): the split folder of each image, a file name that is safe and
// whose stem is unique (the label or mask beside it is named after the stem), and the image file
// itself, hard-linked when possible.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <string_view>

#include "segtune/core/safe_name.h"
#include "segtune/data/convert/labeled_dataset.h"

namespace segtune {

// The file that marks a folder as written by `segtune convert` (a yolo or masks output). A user's
// dataset folder also holds data.yaml or classes.txt, so those cannot be the mark: --overwrite must
// never replace a dataset the user made.
constexpr const char* kConvertMarker = ".segtune-convert";

// CheckOutputDirectory for a convert output folder (`noun`: "YOLO dataset") with kConvertMarker.
void CheckConvertOutputDirectory(const std::filesystem::path& dir, bool overwrite, const std::string& noun);
// Writes kConvertMarker (naming `format`) into the folder being built.
void WriteConvertMarker(const std::filesystem::path& dir, const std::string& format);

// The split folder an image goes into: its subset, with "valid"/"validation" as "val" and
// "default" (CVAT's unnamed subset) as "train", sanitized; `fallback` when it has none.
std::string SplitFolderOf(const LabeledDataset& dataset, const CocoImage& image, const std::string& fallback);

// Names the images of one output folder: SanitizeFileName of the input name's last component, made
// unique by full name and by stem ("a.jpg" and "a.png" cannot both label to "a.txt"). Every name that
// differs from the input's is reported in the ConversionReport.
class StemNamer {
 public:
  StemNamer() : namer_("convert") {}
  // A name for `file_name` (an input path; only its last component is used). `source` names the
  // input file for the report.
  std::string Name(const std::string& file_name, const std::filesystem::path& source, ConversionReport* report);

 private:
  SafeNamer namer_;
  std::set<std::string> stems_;
};

// Puts the file of `image` at `target` (LinkOrCopyFile), warning in `report` (naming `output`) when
// the file is missing. Returns the image with its width and height read from the header when the
// dataset did not have them (0 when unknown).
CocoImage PlaceImage(const LabeledDataset& dataset, const CocoImage& image, const std::filesystem::path& target,
                     const std::filesystem::path& output, ConversionReport* report);

// Writes a file inside an AtomicDirectory's temporary folder: a plain write, no temp file and no
// fsync per file (thousands of label files would each pay a disk flush), since the folder as a
// whole only appears under its name when complete. Throws IoError naming the path.
void WriteFileInNewDirectory(const std::filesystem::path& path, std::string_view bytes);

// Hard-links `from` to `to`; copies when a link is impossible (another file system, no permission).
// Throws IoError naming both paths if neither works.
void LinkOrCopyFile(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace segtune
