// The factories of every AnnotationFormat, one per <name>_format.cpp; the table is in
// annotation_format.cpp.
#pragma once

#include "segtune/data/convert/annotation_format.h"

namespace segtune {

AnnotationFormat CocoAnnotationFormat();  // coco_format.cpp
AnnotationFormat LabelStudioAnnotationFormat();  // labelstudio_format.cpp
AnnotationFormat LabelMeAnnotationFormat();      // labelme_format.cpp
AnnotationFormat RoboflowAnnotationFormat();     // roboflow_format.cpp
AnnotationFormat CreateMlAnnotationFormat();     // createml_format.cpp
AnnotationFormat CocoResultsAnnotationFormat();  // coco_results_format.cpp
AnnotationFormat TfrecordAnnotationFormat();     // tfrecord_format.cpp
AnnotationFormat LabelboxMalAnnotationFormat();  // labelbox_mal_format.cpp
AnnotationFormat LabelboxAnnotationFormat();     // labelbox_format.cpp
AnnotationFormat YoloAnnotationFormat();  // yolo_format.cpp
AnnotationFormat MasksAnnotationFormat();  // masks_format.cpp
AnnotationFormat CvatAnnotationFormat();  // cvat_format.cpp
AnnotationFormat VocAnnotationFormat();   // voc_format.cpp

}  // namespace segtune
