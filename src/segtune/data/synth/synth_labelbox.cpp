#include "segtune/data/synth/synth_labelbox.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "segtune/data/synth/synth_random.h"

namespace segtune::synth {
namespace {

constexpr uint64_t kOntologyStream = 0x4f4e544f4c4f4759ULL;  // Id streams apart from image pixels.
constexpr uint64_t kLabelStream = 0x4c4142454c494453ULL;
constexpr const char* kLabeler = "labeler@synth.segtune.local";

// Labelbox's default palette for the first tools of an ontology.
const std::vector<std::string>& Palette() {
  static const std::vector<std::string> colors{"#1CE6FF", "#FF34FF", "#FF4A46", "#008941", "#006FA6",
                                               "#A30059", "#FFDBE5", "#7A4900", "#0000A6", "#63FFAC"};
  return colors;
}

// "Big bottle" -> "big_bottle": how Labelbox derives a tool's value from its title.
std::string ValueOf(const std::string& title) {
  std::string value;
  for (unsigned char ch : title) value.push_back(std::isalnum(ch) ? char(std::tolower(ch)) : '_');
  return value;
}

// A fixed, plausible timeline: labels made one after another from a fixed start.
std::string Timestamp(uint64_t index, int extra_seconds) {
  const std::time_t start = 1709542800;  // 2024-03-04T09:00:00Z.
  const std::time_t t = start + std::time_t(index * 41 + uint64_t(extra_seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

nlohmann::ordered_json Points(const std::vector<cv::Point>& polygon) {
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  for (const auto& p : polygon) points.push_back({{"x", p.x}, {"y", p.y}});
  return points;
}

// Ids of one label: row/label/data-row ids, then one feature id per object.
struct LabelIds {
  std::string label, data_row;
  std::vector<std::string> features;
  double seconds = 0;
};

LabelIds MakeLabelIds(uint64_t seed, uint64_t index, size_t objects) {
  Random rng(MixSeed(seed ^ kLabelStream, index));
  LabelIds ids;
  ids.label = rng.Cuid();
  ids.data_row = rng.Cuid();
  for (size_t i = 0; i < objects; ++i) ids.features.push_back(rng.Cuid());
  ids.seconds = std::round(rng.Uniform(8, 40) * (1 + objects) * 1000) / 1000;
  return ids;
}

}  // namespace

LabelboxOntology MakeOntology(const std::vector<std::string>& classes, uint64_t seed) {
  Random rng(MixSeed(seed ^ kOntologyStream, 0));
  LabelboxOntology o;
  o.project_id = rng.Cuid();
  std::string joined;
  for (const auto& c : classes) joined += (joined.empty() ? "" : ", ") + c;
  o.project_name = "segtune synthetic (" + joined + ")";
  o.dataset_name = "synth-seed-" + std::to_string(seed);
  for (size_t i = 0; i < classes.size(); ++i) {
    o.titles.push_back(classes[i]);
    o.schema_ids.push_back(rng.Cuid());
    o.colors.push_back(Palette()[i % Palette().size()]);
  }
  return o;
}

nlohmann::ordered_json LabelboxV1Row(const LabelboxOntology& ontology, const LabelboxImage& image,
                                     const std::vector<SceneObject>& objects, uint64_t seed) {
  const LabelIds ids = MakeLabelIds(seed, image.index, objects.size());
  nlohmann::ordered_json objs = nlohmann::ordered_json::array();
  for (size_t i = 0; i < objects.size(); ++i) {
    const size_t c = size_t(objects[i].class_index);
    objs.push_back({{"featureId", ids.features[i]},
                    {"schemaId", ontology.schema_ids[c]},
                    {"title", ontology.titles[c]},
                    {"value", ValueOf(ontology.titles[c])},
                    {"color", ontology.colors[c]},
                    {"polygon", Points(objects[i].polygon)}});
  }
  nlohmann::ordered_json row;
  row["ID"] = ids.label;
  row["DataRow ID"] = ids.data_row;
  row["Labeled Data"] = image.url;
  row["Label"] = {{"objects", objs}, {"classifications", nlohmann::ordered_json::array()}};
  row["Created By"] = kLabeler;
  row["Project Name"] = ontology.project_name;
  row["Created At"] = Timestamp(image.index, 0);
  row["Updated At"] = Timestamp(image.index, int(ids.seconds));
  row["Seconds to Label"] = ids.seconds;
  row["External ID"] = image.external_id;
  row["Agreement"] = -1;
  row["Benchmark Agreement"] = -1;
  row["Benchmark ID"] = nullptr;
  row["Dataset Name"] = ontology.dataset_name;
  row["Reviews"] = nlohmann::ordered_json::array();
  row["View Label"] = "https://editor.labelbox.com?project=" + ontology.project_id + "&label=" + ids.label;
  row["Has Open Issues"] = 0;
  row["Skipped"] = false;
  return row;
}

nlohmann::ordered_json LabelboxNdjsonRow(const LabelboxOntology& ontology, const LabelboxImage& image,
                                         const std::vector<SceneObject>& objects, uint64_t seed) {
  const LabelIds ids = MakeLabelIds(seed, image.index, objects.size());
  nlohmann::ordered_json objs = nlohmann::ordered_json::array();
  for (size_t i = 0; i < objects.size(); ++i) {
    const size_t c = size_t(objects[i].class_index);
    objs.push_back({{"feature_id", ids.features[i]},
                    {"feature_schema_id", ontology.schema_ids[c]},
                    {"name", ontology.titles[c]},
                    {"value", ValueOf(ontology.titles[c])},
                    {"annotation_kind", "ImagePolygon"},
                    {"classifications", nlohmann::ordered_json::array()},
                    {"polygon", Points(objects[i].polygon)}});
  }
  nlohmann::ordered_json label;
  label["label_kind"] = "Default";
  label["version"] = "1.0.0";
  label["id"] = ids.label;
  label["label_details"] = {{"created_at", Timestamp(image.index, 0)},
                            {"updated_at", Timestamp(image.index, int(ids.seconds))},
                            {"created_by", kLabeler},
                            {"content_last_updated_at", Timestamp(image.index, int(ids.seconds))},
                            {"reviews", nlohmann::ordered_json::array()}};
  label["performance_details"] = {{"seconds_to_create", ids.seconds}, {"seconds_to_review", 0}, {"skipped", false}};
  label["annotations"] = {{"objects", objs},
                          {"classifications", nlohmann::ordered_json::array()},
                          {"relationships", nlohmann::ordered_json::array()}};
  nlohmann::ordered_json project;
  project["name"] = ontology.project_name;
  project["labels"] = nlohmann::ordered_json::array({label});
  project["project_details"] = {{"ordinal", image.index + 1},
                                {"workflow_status", "DONE"},
                                {"created_at", Timestamp(image.index, 0)},
                                {"updated_at", Timestamp(image.index, int(ids.seconds))}};
  nlohmann::ordered_json row;
  row["data_row"] = {{"id", ids.data_row},
                     {"global_key", image.external_id},
                     {"external_id", image.external_id},
                     {"row_data", image.url}};
  row["media_attributes"] = {{"height", image.height}, {"width", image.width}, {"mime_type", "image/jpeg"}, {"asset_type", "image"}};
  row["attachments"] = nlohmann::ordered_json::array();
  row["metadata_fields"] = nlohmann::ordered_json::array();
  row["projects"] = {{ontology.project_id, project}};
  return row;
}

std::string FileUrl(const std::string& absolute_path) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string url = "file://";
  for (unsigned char ch : absolute_path) {
    if (std::isalnum(ch) || ch == '/' || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      url.push_back(char(ch));
    } else {
      url += '%';
      url.push_back(kHex[ch >> 4]);
      url.push_back(kHex[ch & 15]);
    }
  }
  return url;
}

}  // namespace segtune::synth
