#include "segtune/config/pipeline_config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <map>
#include <regex>

#include "segtune/config/config_audit.h"
#include "segtune/config/detection_config.h"
#include "segtune/config/model_catalog.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/nesting_limit.h"

namespace segtune {

namespace pb = google::protobuf;
using segtune::config::TrainEvalPipelineConfig;

std::string ConfigWarning::ToString(const std::filesystem::path& file) const {
  std::string s = file.string();
  if (line > 0) s += ":" + std::to_string(line);
  s += ": ";
  if (!field.empty()) s += field + ": ";
  return s + message;
}

bool IsUnconfiguredPath(const std::string& path) { return path.find("PATH_TO_BE_CONFIGURED") != std::string::npos; }

namespace {

// Where each field name of the text sits, as a dotted path ("train_config.optimizer"), keyed by the
// (0-based line, column) of its identifier. Protobuf's warnings carry only the message type name; this
// tells the user which of the (possibly many) occurrences it was.
std::map<std::pair<int, int>, std::string> FieldPathsByPosition(const std::string& text) {
  std::map<std::pair<int, int>, std::string> paths;
  pb::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  struct Quiet : pb::io::ErrorCollector {
    void AddError(int, pb::io::ColumnNumber, const std::string&) override {}
  } quiet;
  pb::io::Tokenizer tokenizer(&input, &quiet);
  tokenizer.set_comment_style(pb::io::Tokenizer::SH_COMMENT_STYLE);
  std::vector<pb::io::Tokenizer::Token> tokens;
  while (tokenizer.Next()) tokens.push_back(tokenizer.current());

  std::vector<std::string> stack;
  std::string pending;  // The field a following '{' opens (also each item of `field: [{..}, {..}]`).
  auto joined = [&stack](const std::string& name) {
    std::string path;
    for (const auto& s : stack) path += s + ".";
    return path + name;
  };
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto& t = tokens[i];
    const bool is_name = t.type == pb::io::Tokenizer::TYPE_IDENTIFIER && i + 1 < tokens.size() &&
                         (tokens[i + 1].text == ":" || tokens[i + 1].text == "{" || tokens[i + 1].text == "<");
    if (is_name) {
      paths[{t.line, t.column}] = joined(t.text);
      pending = t.text;
    } else if (t.text == "{" || t.text == "<") {
      stack.push_back(pending);
    } else if ((t.text == "}" || t.text == ">") && !stack.empty()) {
      pending = stack.back();
      stack.pop_back();
    }
  }
  return paths;
}

// 1-based line of the n-th occurrence of a dotted path in the text (0 if there is none).
int LineOfPath(const std::map<std::pair<int, int>, std::string>& paths, const std::string& path, int occurrence) {
  for (const auto& [position, p] : paths) {
    if (p == path && occurrence-- == 0) return position.first + 1;
  }
  return 0;
}

// Collects protobuf's parse messages: warnings (unknown fields) and the first error.
class CollectingErrors : public pb::io::ErrorCollector {
 public:
  struct Note {
    int line;
    int column;
    std::string message;
  };
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    errors.push_back({line, column, message});
  }
  void AddWarning(int line, pb::io::ColumnNumber column, const std::string& message) override {
    warnings.push_back({line, column, message});
  }
  std::vector<Note> errors;
  std::vector<Note> warnings;
};

// 'Message type "segtune.config.FasterRcnn" has no field named "first_stage_anchor_generator".'
// -> "first_stage_anchor_generator" (or "" for another kind of message).
std::string UnknownFieldName(const std::string& message) {
  static const std::regex pattern(R"re(has no field named "([^"]+)")re");
  std::smatch m;
  return std::regex_search(message, m, pattern) ? m[1].str() : "";
}

// The path of the unknown field reported at (line, column). Protobuf reports the position of the token
// after the name in some versions; look back on the same line for the nearest recorded name.
std::string PathAt(const std::map<std::pair<int, int>, std::string>& paths, int line, int column,
                   const std::string& name) {
  auto it = paths.upper_bound({line, column});
  while (it != paths.begin()) {
    --it;
    if (it->first.first < line - 1) break;
    const std::string& path = it->second;
    if (path == name || (path.size() > name.size() && path.compare(path.size() - name.size() - 1, std::string::npos,
                                                                   "." + name) == 0)) {
      return path;
    }
  }
  return name;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Replaces a TF detection model by its segtune counterpart (see NearestSemanticModel).
template <typename DetectionMessage>
void MapDetectionModel(const std::string& kind, const DetectionMessage& tf_model, PipelineConfig* config) {
  const std::string type = tf_model.feature_extractor().type();
  const std::string target = NearestSemanticModel(type);
  if (target.empty()) {
    throw FormatError(config->path, "model." + kind,
                      "feature extractor '" + type +
                          "' has no segtune counterpart (segtune trains semantic segmentation models with a "
                          "MobileNetV3-Large or ResNet-50/101 backbone). Replace the model block with e.g. "
                          "model { segmentation { architecture: \"deeplabv3_resnet50\" num_classes: N } } "
                          "(N = classes + 1 for background); architectures: " +
                          ModelNames(ModelTask::kSemantic));
  }
  segtune::config::SemanticModel seg;
  seg.set_architecture(target);
  if (tf_model.has_num_classes()) seg.set_num_classes(tf_model.num_classes() + 1);
  if (tf_model.has_image_resizer()) *seg.mutable_image_resizer() = tf_model.image_resizer();
  config->mapped_from = kind + " (feature_extractor.type " + type + ")";
  std::string message = "TF detection model mapped to segtune segmentation model " + target;
  if (tf_model.has_num_classes()) {
    message += " with num_classes " + std::to_string(seg.num_classes()) + " (" +
               std::to_string(tf_model.num_classes()) + " TF classes + background)";
  }
  message += "; detection-specific settings do not apply";
  if (Lower(type).find("resnet152") != std::string::npos) message += " (ResNet-152 has no segtune model: using ResNet-101)";
  config->warnings.push_back({0, "model." + kind, message});
  *config->proto.mutable_model()->mutable_segmentation() = seg;
}

void MapModel(PipelineConfig* config) {
  if (!config->proto.has_model()) {
    throw FormatError(config->path, "", "no model { ... } block; add e.g. model { segmentation { architecture: "
                                        "\"lraspp_mobilenet_v3_large\" num_classes: N } }");
  }
  const auto& model = config->proto.model();
  if (model.has_faster_rcnn()) {
    MapFasterRcnn(config);
  } else if (model.has_ssd()) {
    MapDetectionModel("ssd", model.ssd(), config);
  } else if (model.has_segmentation()) {
    MoveDetectionArchitecture(config);
  } else if (!model.has_detection()) {
    throw FormatError(config->path, "model",
                      "no supported model type (segtune reads `segmentation` and `detection`, and maps TF's "
                      "`faster_rcnn` and `ssd`); use model { segmentation { architecture: \"...\" num_classes: N } } "
                      "with one of: " + ModelNames(ModelTask::kSemantic) +
                          ", or model { detection { architecture: \"fasterrcnn_resnet50_fpn\" num_classes: N } }");
  }
}

// A path from the config, resolved against the config's directory (patterns stay patterns).
std::string Resolve(const std::string& value, const std::filesystem::path& base) {
  if (value.empty() || IsUnconfiguredPath(value)) return value;
  // A comma-separated list resolves item by item (ExpandInputPaths accepts lists).
  std::string out;
  size_t start = 0;
  while (start <= value.size()) {
    const size_t comma = value.find(',', start);
    const std::string item = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::filesystem::path p(item);
    if (!item.empty() && p.is_relative()) p = base / p;
    out += (out.empty() ? "" : ",") + p.lexically_normal().string();
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void ResolveInputReader(segtune::config::InputReader* reader, const std::filesystem::path& base) {
  if (reader->has_label_map_path()) reader->set_label_map_path(Resolve(reader->label_map_path(), base));
  if (reader->has_tf_record_input_reader()) {
    auto* tfr = reader->mutable_tf_record_input_reader();
    for (int i = 0; i < tfr->input_path_size(); ++i) tfr->set_input_path(i, Resolve(tfr->input_path(i), base));
  }
}

void ResolvePaths(PipelineConfig* config) {
  const std::filesystem::path base =
      config->path.has_parent_path() ? config->path.parent_path() : std::filesystem::path(".");
  auto& proto = config->proto;
  if (proto.has_train_config() && proto.train_config().has_fine_tune_checkpoint()) {
    proto.mutable_train_config()->set_fine_tune_checkpoint(Resolve(proto.train_config().fine_tune_checkpoint(), base));
  }
  if (proto.has_train_input_reader()) ResolveInputReader(proto.mutable_train_input_reader(), base);
  for (auto& reader : *proto.mutable_eval_input_reader()) ResolveInputReader(&reader, base);
}

// TF checkpoints (model.ckpt-123, ckpt-0, *.index) cannot be read; say what works instead.
void WarnAboutTensorFlowCheckpoint(PipelineConfig* config) {
  if (!config->proto.train_config().has_fine_tune_checkpoint()) return;
  const std::string path = config->proto.train_config().fine_tune_checkpoint();
  if (path.empty() || IsUnconfiguredPath(path)) return;
  const std::string name = Lower(std::filesystem::path(path).filename().string());
  static const std::regex tf_checkpoint(R"((^|.*[/.])(model\.)?ckpt(-\d+)?(\.index|\.data-.*|\.meta)?$)");
  if (std::regex_match(name, tf_checkpoint)) {
    config->warnings.push_back(
        {0, "train_config.fine_tune_checkpoint",
         "'" + path + "' looks like a TensorFlow checkpoint, which segtune cannot read; use a torchvision .pth "
         "(`segtune models` lists the zoo files), a .safetensors file or a segtune checkpoint"});
  }
}

}  // namespace

std::string NearestSemanticModel(const std::string& feature_extractor_type) {
  const std::string t = Lower(feature_extractor_type);
  auto has = [&t](const char* s) { return t.find(s) != std::string::npos; };
  if (has("resnet50")) return "deeplabv3_resnet50";
  if (has("resnet101") || has("resnet152")) return "deeplabv3_resnet101";
  if (has("mobilenet")) return has("ssd") ? "lraspp_mobilenet_v3_large" : "deeplabv3_mobilenet_v3_large";
  return "";
}

PipelineConfig ParsePipelineConfig(const std::string& text, const std::filesystem::path& path) {
  PipelineConfig config;
  config.path = path;
  config.text = text;
  // Before protobuf sees it: skipping an unknown field recurses once per level, without a limit.
  CheckTextFormatNesting(text, path.string());
  CollectingErrors collector;
  pb::TextFormat::Parser parser;
  parser.SetRecursionLimit(kMaxTextFormatNesting);
  parser.AllowUnknownField(true);
  parser.RecordErrorsTo(&collector);
  const bool ok = parser.ParseFromString(text, &config.proto);
  if (!ok || !collector.errors.empty()) {
    const auto& e = collector.errors.empty() ? CollectingErrors::Note{0, 0, "cannot be parsed"} : collector.errors[0];
    throw FormatError(path, "line " + std::to_string(e.line + 1) + ":" + std::to_string(e.column + 1),
                      e.message + " (expected a pipeline config in protobuf text format, see docs/training.md)");
  }
  const auto paths = FieldPathsByPosition(text);
  if (!collector.warnings.empty()) {
    for (const auto& w : collector.warnings) {
      const std::string name = UnknownFieldName(w.message);
      if (name.empty()) {
        config.warnings.push_back({w.line + 1, "", w.message});
      } else {
        config.warnings.push_back({w.line + 1, PathAt(paths, w.line, w.column, name),
                                   "not supported by segtune; ignored"});
      }
    }
  }
  for (auto& w : AuditUnhonouredFields(config.proto, [&paths](const std::string& path, int occurrence) {
         return LineOfPath(paths, path, occurrence);
       })) {
    config.warnings.push_back(std::move(w));
  }
  MapModel(&config);
  ResolvePaths(&config);
  WarnAboutTensorFlowCheckpoint(&config);
  return config;
}

int LineOfField(const PipelineConfig& config, const std::string& path, int occurrence) {
  return LineOfPath(FieldPathsByPosition(config.text), path, occurrence);
}

PipelineConfig LoadPipelineConfig(const std::filesystem::path& path) { return ParsePipelineConfig(ReadFile(path), path); }

std::string PipelineConfigToText(const TrainEvalPipelineConfig& proto) {
  std::string text;
  pb::TextFormat::Printer printer;
  printer.SetUseShortRepeatedPrimitives(false);
  printer.PrintToString(proto, &text);
  return text;
}

}  // namespace segtune
