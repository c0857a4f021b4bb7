#include "segtune/data/convert/format_names.h"

namespace segtune {

const std::vector<FormatName>& AnnotationFormatNames() {
  static const std::vector<FormatName> names = {
      {"coco", "COCO JSON (instances: boxes, polygons, RLE masks)", true, true, false},
      {"labelstudio", "Label Studio JSON or JSON-MIN export (rectangles, polygons, brush masks); writes "
                      "tasks with annotations, or predictions when scores are present", true, true, false},
      {"labelme", "LabelMe JSON, one file per image (a folder or one file; imageData images)", true, true, true},
      {"roboflow", "Roboflow COCO export (train/ valid/ test/ with _annotations.coco.json)", true, false, false},
      {"createml", "CreateML object detection JSON (boxes by centre)", true, true, false},
      {"coco-results", "COCO results JSON (predictions with scores; needs --reference)", true, false, false},
      {"tfrecord", "TFRecord of tf.train.Example (ground truth or `segtune infer` predictions)", true, false, false},
      {"labelbox-mal", "Labelbox model-assisted labeling import NDJSON (needs Labelbox data row ids)", false, true, false},
      {"labelbox", "Labelbox export: v1 / 2018 JSON or export v2 NDJSON (as labelbox2coco; images stay URLs)", true, false,
       false},
      {"yolo", "YOLO (Ultralytics data.yaml or Darknet obj.data; boxes and segments)", true, true, true},
      {"masks", "Semantic mask folders: images/ + masks/ PNGs with classes.txt or a colour table, CamVid, Cityscapes gtFine, ADE20K", true, true, true},
      {"cvat", "CVAT for images 1.1 XML (task or project export; boxes, polygons, masks)", true, true, false},
      {"voc", "Pascal VOC folder (Annotations XML, SegmentationClass/Object palette PNGs, ImageSets)", true, true, true},
  };
  return names;
}

}  // namespace segtune
