// ADE20K semantic masks, in the two layouts people download (docs/formats.md §17):
// - SceneParsing (ADEChallengeData2016, 150 classes): images/<split>/ADE_*.jpg with
//   annotations/<split>/ADE_*.png, 8-bit class indices, 0 = other/unlabeled (ignored), names from
//   objectInfo150.csv (or the devkit's objectInfo150.txt), scenes from sceneCategories.txt;
// - the full dataset (ADE20K_2016_07_26, ADE20K_2021_17_01): ADE_*.jpg with ADE_*_seg.png beside
//   it, class = R / 10 * 256 + G, object instance from B. Class names from the release's
//   index_ade20k.pkl (ade20k_index.h) when found; otherwise class_<N>, with a warning.
// Part masks (_parts_N.png), per-object masks and attributes are not read.
#pragma once

#include <filesystem>

#include "segtune/data/convert/labeled_dataset.h"

namespace segtune {

enum class Ade20kLayout { kNone, kSceneParsing, kFull };

// Which layout `input` (a folder) is in: kSceneParsing for images/ + annotations/ with a training or
// validation folder (or an objectInfo150 table); kFull if an X_seg.png with its X.jpg beside it is
// found within the first few thousand entries below it. Never throws.
Ade20kLayout DetectAde20kLayout(const std::filesystem::path& input);

// Reads `input` in `layout`. Category id = the class value (0 is never a category). Splits: the
// folders "training" and "validation" are subsets "train" and "val" (other folder names as they are).
// An image without its annotation is left out (warned, each named: ADE20K labels every image, so
// none means it is missing, not that the image is empty; a whole folder without annotations, such
// as a test set, is one warning); an annotation without its image is kept
// for the conversion's missing-image check. Throws FormatError naming the file (and pixel) for a
// value above the class table, an undecodable mask or one whose size differs from its image's.
LabeledDataset ReadAde20k(const std::filesystem::path& input, Ade20kLayout layout, ConversionReport* report);

}  // namespace segtune
