// LabelMe JSON (docs/formats.md §16): the table entry. Reading is labelme_read.cpp, writing
// labelme_write.cpp.
#include "segtune/data/convert/formats_list.h"
#include "segtune/data/convert/labelme.h"

namespace segtune {

AnnotationFormat LabelMeAnnotationFormat() {
  return {"labelme", DetectLabelMe, ReadLabelMe, WriteLabelMe};
}

}  // namespace segtune
