// `segtune labelbox2coco`: every Labelbox export flavour (docs/formats.md §9) to COCO JSON.
//
// Flavours, detected from the content: the legacy JSON array with v1 rows (Label.objects[]: polygon,
// bbox, point, line, instanceURI mask), the 2018 JSON array formats (Label = {class: XY point lists,
// [{geometry: ...}], or WKT POLYGON/MULTIPOLYGON strings}), and export v2 rows as NDJSON (or as a JSON
// array): data_row, media_attributes, projects.<id>.labels[].annotations.objects[] with
// annotation_kind ImagePolygon / ImageBoundingBox / ImageSegmentationMask / ImagePoint / ImagePolyline.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "segtune/formats/coco.h"
#include "segtune/core/download.h"

namespace segtune {

enum class YOrigin { kTop, kBottom, kAuto };

struct LabelboxOptions {
  std::filesystem::path input;
  std::filesystem::path output;
  std::string api_key;          // Sent as "Authorization: Bearer <key>" when fetching mask URLs...
  // ...but only to these hosts (forms as in CredentialAllowedFor: "labelbox.com" is https to
  // labelbox.com and its subdomains), never to another host an export names or a redirect leads to.
  std::vector<std::string> api_key_hosts = {"labelbox.com"};
  YOrigin y_origin = YOrigin::kAuto;
  DownloadOptions download;     // For masks (and image sizes needed by a y flip); limits per file.
  bool overwrite = false;       // Replace an existing output that is a JSON object (core/output_guard.h).
};

struct LabelboxReport {
  std::string flavour;
  int rows = 0;
  int skipped_rows = 0;
  int images = 0;
  int annotations = 0;
  std::map<std::string, int> annotations_per_class;
  std::map<std::string, int> skipped_objects;  // Reason -> count.
  int mask_failures = 0;                       // Masks that could not be fetched or decoded.
  bool y_flipped = false;
};

// Converts an export. Images keep the Labelbox ids as string ids (v1: the label "ID"; v2: data_row.id)
// and their URL (file_name = coco_url = the URL); width/height come from media_attributes or a mask,
// else stay 0 (run `segtune download` to fill them). Categories get ids 1..N in sorted class-name
// order, so reruns and re-exports give the same ids. Polygons keep their vertices; boxes become
// rectangle polygons; masks (downloaded with the API key, composite masks: pixels equal to color_rgb)
// become RLEs. bbox comes from the geometry; area is the rasterized mask area when the image size is
// known, else the shoelace area. Holes of WKT polygons are subtracted through an RLE when the size is
// known, else dropped with a count in skipped_objects. Points and lines are not regions: they are
// counted in skipped_objects.
//
// y origin: v1 and v2 geometry is top-left. The 2018 XY/WKT exports may have a bottom-left origin
// (Labelbox's own exporter flips y' = H - y); kAuto keeps them as they are and warns, kBottom flips
// every vector geometry (downloading an image when its height is unknown).
//
// Downloads: http and https only (a file:// mask URL fails like an unreachable one), each file within
// options.download's --max-bytes and --timeout. Masks go to a temporary directory that is removed
// on return, on an error and when SIGINT/SIGTERM end the process.
//
// Throws FormatError naming the file and the row/line and field for malformed input, IoError if the
// input cannot be read. Masks that fail to download are skipped and counted in mask_failures.
CocoDataset LabelboxToCoco(const LabelboxOptions& options, LabelboxReport* report);

// Checks options.output first (CheckOutputFile: an existing file is replaced only with overwrite and
// only when it is a JSON object), then LabelboxToCoco, writes options.output and prints the report to
// stderr.
LabelboxReport ConvertLabelbox(const LabelboxOptions& options);

}  // namespace segtune
