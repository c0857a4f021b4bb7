// Helpers the JSON labeling-tool readers share to build a LabeledDataset: categories by name for
// formats that number none (ids 1..N in first-seen order), and an annotation's bbox and area
// computed from its geometry the way COCO does.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "segtune/formats/coco.h"

namespace segtune {

// The id of category `name` in `coco`, adding it (id = largest id + 1, so 1..N in first-seen
// order from an empty dataset) when there is none of that name.
int64_t CategoryIdFor(CocoDataset* coco, const std::string& name);

// Category names by id, for writers that name classes.
std::map<int64_t, std::string> CategoryNames(const CocoDataset& coco);

// Sets a.bbox and a.area from a.segmentation: an RLE gives its tight box and pixel count; polygons
// give the box of their vertices and the pixel count of their rasterized union (as pycocotools), or
// the shoelace area when the image size is unknown (0). Without a segmentation, area = box area.
void FillBoxAndArea(CocoAnnotation* a, int image_width, int image_height);

// A new annotation id: largest so far + 1.
int64_t NextAnnotationId(const CocoDataset& coco);

}  // namespace segtune
