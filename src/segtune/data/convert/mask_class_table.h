// The class table of a semantic mask folder: which class each mask value or colour stands for.
// Read from `classes.txt` (one name per line, index = line - 1), CVAT's `labelmap.txt`
// (`name:r,g,b:parts:actions`, '#' comments) or CamVid's `class_dict.csv` (`name,r,g,b` with a
// header line). docs/formats.md §17.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "segtune/data/convert/labeled_dataset.h"

namespace segtune {

// What a class name means in a semantic mask: most are classes; "background" is the absence of
// objects, "void"/"ignore"/"unlabeled" pixels are left out of training and evaluation.
enum class MaskClassRole { kClass, kBackground, kIgnore };
MaskClassRole MaskClassRoleOf(const std::string& name);

struct MaskClass {
  std::string name;
  MaskClassRole role = MaskClassRole::kClass;
  uint32_t rgb = 0;  // 0xRRGGBB, for colour tables.
  int line = 0;
};

struct MaskClassTable {
  std::filesystem::path file;
  bool colours = false;            // labelmap.txt / class_dict.csv: masks are RGB, matched by colour.
  std::vector<MaskClass> classes;  // By index (classes.txt) or by table line (colours).
  std::unordered_map<uint32_t, int> index_of_rgb;  // Colour tables only.
};

// The table file of `dir`: classes.txt, labelmap.txt or class_dict.csv (in that order; "" if none).
std::filesystem::path FindMaskClassTable(const std::filesystem::path& dir);

// Reads it. Throws FormatError naming the file and line for an empty name, a malformed colour, a
// colour used twice, or more than 255 classes (255 is the ignore value of class-index masks).
MaskClassTable LoadMaskClassTable(const std::filesystem::path& file);

// ADE20K SceneParsing's class table: `objectInfo150.csv` (comma-separated) or the devkit's
// `objectInfo150.txt` (tab-separated), a header naming the columns (Idx and Name are read, Ratio,
// Train, Val and any others ignored), then one row per class with Idx 1, 2, 3, ... in order. The
// name is the whole Name field, trimmed ("building;edifice": the CSV writes both the synonym
// separator and the spaces inside a name as ';', so a first part would turn "chest of drawers" into
// "chest"). classes[0] is "other" with role kIgnore (mask value 0 is unlabeled); classes[i] is the
// row with Idx i. Throws FormatError naming the file and line for a missing column, an Idx out of
// order, an empty name, or more than 254 classes.
MaskClassTable LoadAde20kObjectInfo(const std::filesystem::path& file);

}  // namespace segtune
