// Labelbox export rows for synthetic images, in the real field layouts (docs/formats.md §9): the legacy
// v1 JSON array row and the export v2 NDJSON row, each object a polygon annotation.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "segtune/data/synth/synth_scene.h"

namespace segtune::synth {

// The label tool's view of the class list: stable feature schema ids and colors per class.
struct LabelboxOntology {
  std::string project_id;
  std::string project_name;
  std::string dataset_name;
  std::vector<std::string> titles;      // Class names, as typed: "bottle".
  std::vector<std::string> schema_ids;  // One per class.
  std::vector<std::string> colors;      // "#1CE6FF" style, one per class.
};
// Ids derive from the seed, so the same seed gives the same export.
LabelboxOntology MakeOntology(const std::vector<std::string>& classes, uint64_t seed);

struct LabelboxImage {
  uint64_t index = 0;         // Position in the dataset (seeds its ids and timestamps).
  std::string external_id;    // File name, "synth_000012.jpg".
  std::string url;            // "Labeled Data": where the image can be fetched.
  int width = 0;
  int height = 0;
};

// A v1 row: "ID", "DataRow ID", "Labeled Data", "Label": {"objects": [...], "classifications": []},
// "Created By", ..., "Skipped". Objects keep the scene's z-order.
nlohmann::ordered_json LabelboxV1Row(const LabelboxOntology& ontology, const LabelboxImage& image,
                                     const std::vector<SceneObject>& objects, uint64_t seed);
// An export v2 row: data_row, media_attributes, attachments, metadata_fields,
// projects.<id>.labels[0].annotations.objects[] with annotation_kind "ImagePolygon".
nlohmann::ordered_json LabelboxNdjsonRow(const LabelboxOntology& ontology, const LabelboxImage& image,
                                         const std::vector<SceneObject>& objects, uint64_t seed);

// file:// URL of an absolute path, percent-encoding everything but unreserved characters and '/'.
std::string FileUrl(const std::string& absolute_path);

}  // namespace segtune::synth
