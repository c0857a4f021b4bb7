// Which of many paths are regular files, for the checks that every image an annotation file names
// exists (`segtune convert`, thousands of images per dataset).
//
// The answer is std::filesystem::is_regular_file's (symbolic links followed; an unreadable folder
// counts as missing), got with one directory listing for a folder that holds many of the paths
// instead of one stat() per path: 5,000 stats were 7% of a 5,000-image CVAT conversion on a VM,
// where every system call is dear. Folders with few of the paths, entries whose type the listing
// does not give (DT_UNKNOWN on some network file systems) and symbolic links are stat()ed. A listing
// that turns out much larger than the paths it is for stops early, and those paths are stat()ed.
#pragma once

#include <string>
#include <vector>

namespace segtune {

// present[i] != 0 when paths[i] is a regular file (or a link to one). Relative paths are relative to
// the current directory. Paths are plain strings: std::filesystem::path's parsing of 5,000 paths into
// components cost more than the listing.
std::vector<char> RegularFilesAmong(const std::vector<std::string>& paths);

}  // namespace segtune
