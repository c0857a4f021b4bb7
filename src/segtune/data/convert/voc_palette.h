// Pascal VOC's class table and colour map, and reading its palette PNG masks (docs/formats.md §15).
//
// SegmentationClass and SegmentationObject PNGs are 8-bit indexed images whose palette is VOC's colour
// map: index i's colour interleaves i's bits (bit 0 -> red, 1 -> green, 2 -> blue, from the high bit
// of each channel down), so 1 = (128,0,0), 2 = (0,128,0), 255 = (224,224,192). OpenCV expands a
// palette to colours, so the reader maps colours back to indexes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "segtune/formats/image_codec.h"

namespace segtune {

constexpr uint8_t kVocVoid = 255;  // "void": object borders and ambiguous pixels, in both PNGs.

// The 256 colours of VOC's colour map, by index.
const std::vector<PaletteColor>& VocColormap();
// "background", then VOC's 20 classes in index order ("aeroplane" = 1 ... "tvmonitor" = 20).
const std::vector<std::string>& VocClassNames();

// Reads a mask PNG as row-major indexes. A gray PNG's values are the indexes; a colour (palette) PNG's
// colours are looked up in `colors` (index -> colour). Throws FormatError naming the file and the
// first pixel whose colour is in no entry.
std::vector<uint8_t> ReadIndexedMask(const std::filesystem::path& file, const std::vector<PaletteColor>& colors,
                                     int* height, int* width);

}  // namespace segtune
