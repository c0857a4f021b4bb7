// LabelMe JSON (docs/formats.md §16): the pieces labelme_format.cpp puts together.
#pragma once

#include <filesystem>

#include "segtune/data/convert/annotation_format.h"

namespace segtune {

// Reads one LabelMe JSON file, or every *.json file under a folder (sorted by path). Image file
// names are the imagePath of each file, relative to the folder read (or the file's folder).
LabeledDataset ReadLabelMe(const std::filesystem::path& input, const ReadOptions& options, ConversionReport* report);
// Writes one LabelMe JSON per image into the folder `output`.
void WriteLabelMe(const LabeledDataset& dataset, const std::filesystem::path& output, const WriteOptions& options,
                  ConversionReport* report);
// 20 for a LabelMe JSON file or a folder whose first JSON files are LabelMe's, else 0.
int DetectLabelMe(const std::filesystem::path& input);

}  // namespace segtune
