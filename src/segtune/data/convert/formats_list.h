// The factories of every AnnotationFormat, one per <name>_format.cpp; the table is in
// annotation_format.cpp.
#pragma once

#include "segtune/data/convert/annotation_format.h"

namespace segtune {

AnnotationFormat CocoAnnotationFormat();  // coco_format.cpp

}  // namespace segtune
