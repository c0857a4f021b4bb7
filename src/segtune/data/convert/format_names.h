// The names and one-line descriptions of the annotation formats, without their readers and writers:
// what `segtune convert --help` lists, in the front end, which must not link OpenCV.
#pragma once

#include <string>
#include <vector>

namespace segtune {

struct FormatName {
  std::string name;         // The --from / --to value: "cvat", "labelstudio", ...
  std::string description;  // One line: "CVAT for images 1.1 XML (task or project export)".
  bool readable = false;
  bool writable = false;
  bool writes_directory = false;  // -o names a directory (else a file).
};

// Every format, in --help order.
const std::vector<FormatName>& AnnotationFormatNames();

}  // namespace segtune
