// `segtune records export`: TFRecord datasets back to COCO JSON + image files (decodes instance
// masks, so it needs the image codec library; records.h does not).
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace segtune {

struct ExportToCocoOptions {
  std::filesystem::path images_dir;  // Where image/encoded bytes are written.
  std::filesystem::path output;      // COCO JSON path.
  // Replace a previous export: output if it is a JSON object, images_dir if it holds only image
  // files. Without it, an existing output or a non-empty images_dir is a UsageError.
  bool overwrite = false;
};

struct ExportToCocoReport {
  int64_t images = 0;
  int64_t annotations = 0;
};

// Writes one COCO image per record (id = image/source_id, as a number if it is one; file_name =
// image/filename's last component, or "<source_id>.<ext>" when absent or repeated, always passed
// through SafeNamer so a record cannot name a file outside images_dir; <ext> from image/format
// when it is an image format, else from the bytes), categories from
// (class/label, class/text), boxes converted back to pixels, image/object/mask PNGs as compressed
// RLE. Throws FormatError naming the file and record on a corrupt record.
ExportToCocoReport ExportRecordsToCoco(const std::vector<std::filesystem::path>& files,
                                       const ExportToCocoOptions& options);

}  // namespace segtune
