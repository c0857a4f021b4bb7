// Writes a LabeledDataset as a Pascal VOC folder (docs/formats.md §15); the reader is voc_format.cpp.
#pragma once

#include <filesystem>

#include "segtune/data/convert/annotation_format.h"

namespace segtune {

// Into `output` (a new directory, built aside and renamed into place): Annotations/<id>.xml with
// 1-based inclusive boxes, JPEGImages/ (hard links to the images, else copies; names sanitized),
// SegmentationObject/ and SegmentationClass/ palette PNGs for images with masks or polygons,
// ImageSets/Main/<subset>.txt (and ImageSets/Segmentation/ for images with masks), labelmap.txt with
// the class indexes used, and segtune-voc.txt marking the folder as segtune's (--overwrite).
void WriteVoc(const LabeledDataset& dataset, const std::filesystem::path& output, const WriteOptions& options,
              ConversionReport* report);

}  // namespace segtune
