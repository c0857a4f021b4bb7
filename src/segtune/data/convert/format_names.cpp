#include "segtune/data/convert/format_names.h"

namespace segtune {

const std::vector<FormatName>& AnnotationFormatNames() {
  static const std::vector<FormatName> names = {
      {"coco", "COCO JSON (instances: boxes, polygons, RLE masks)", true, true, false},
  };
  return names;
}

}  // namespace segtune
