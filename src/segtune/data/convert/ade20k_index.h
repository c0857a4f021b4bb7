// The class names of the full ADE20K dataset (ADE20K_2021_17_01), from its index_ade20k.pkl: a Python
// pickle of a dict whose "objectnames" holds one name per class, in class order. A *_seg.png value
// v (R / 10 * 256 + G) is the class objectnames[v - 1]; 0 is unlabeled (the ADE20K starter notebook
// masks class_mask == obj_id + 1 for objectnames[obj_id]).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace segtune {

// index_ade20k.pkl in `input` or one of its three nearest parent folders (the release's root holds
// it beside images/; users point at the root, images/ or a split below it); "" if none.
std::filesystem::path FindAde20kIndex(const std::filesystem::path& input);

// The "objectnames" of `index_file`: a list of str, or a 1-D numpy array of str (dtype object or
// unicode "<U"). Large arrays beside it (objectPresence: ~800 MB) are skipped, not copied; the file is
// mapped, not read into memory. Throws FormatError naming the file and what was expected (a dict
// with "objectnames", the kind of value found) and IoError if it cannot be opened.
std::vector<std::string> LoadAde20kObjectNames(const std::filesystem::path& index_file);

}  // namespace segtune
