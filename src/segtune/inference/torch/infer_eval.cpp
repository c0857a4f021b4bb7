#include "segtune/inference/torch/infer_eval.h"

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/input_limits.h"
#include "segtune/core/output_guard.h"
#include "segtune/formats/label_map.h"
#include "segtune/formats/od_example.h"
#include "segtune/data/semantic_target.h"
#include "segtune/formats/events.h"
#include "segtune/evaluation/detection_eval.h"
#include "segtune/inference/torch/detection_inference.h"
#include "segtune/inference/torch/semantic_inference.h"

namespace segtune {
namespace {

// Inference over command.data with no outputs: the predictions go to the evaluation only.
InferenceOptions RecordsRequest(const EvalOptions& command) {
  InferenceOptions request;
  request.inputs = {command.data};
  request.threads = command.threads;
  request.batch_size = command.batch_size;
  request.device = command.device;
  request.engine = command.engine;
  // Metrics over fewer images than the records hold must be asked for (--skip-corrupt).
  request.skip_unreadable = GetInputLimits().skip_corrupt_records;
  return request;
}

// Metrics of no image are not a result.
void CheckSomethingEvaluated(const EvalOptions& command, int64_t images, const InferenceSummary& summary) {
  if (images > 0) return;
  throw FormatError(command.data + ": no image could be evaluated (" + std::to_string(summary.skipped) +
                    " skipped as unreadable)");
}

}  // namespace

SemanticEvalResult EvaluateModelOnRecords(const EvalOptions& command, std::vector<std::string>* class_names) {
  SemanticInferenceModel model = LoadSemanticInferenceModel(command.model);
  *class_names = model.class_names;
  SemanticConfusion confusion(static_cast<int>(model.num_classes), command.ignore_label);
  SemanticGallery gallery(static_cast<int>(model.num_classes), command.ignore_label, command.gallery);
  const InferenceOptions request = RecordsRequest(command);
  SemanticEvalResult result;
  result.matched_by = "same record";
  const InferenceSummary summary = RunSemanticInference(model, request, [&](const SemanticImage& p) {
    const ObjectDetectionExample gt = ParseObjectDetectionExample(*p.example, p.source);
    const cv::Mat target = SemanticTarget(gt, p.class_map.rows, p.class_map.cols, p.source);
    confusion.Add(target.data, p.class_map.data, target.total());
    ++result.images;
    gallery.Add(gt.source_id.empty() ? p.source : gt.source_id, target, p.class_map, [&] { return p.image; });
  });
  CheckSomethingEvaluated(command, result.images, summary);
  result.warnings = summary.problems;
  result.metrics = ComputeSemanticMetrics(confusion);
  result.image_scores = gallery.scores();
  result.gallery = gallery.Worst();
  return result;
}

DetectionEvalResult EvaluateDetectionModelOnRecords(const EvalOptions& command, std::vector<std::string>* class_names) {
  DetectionBundle bundle = LoadDetectionBundle(command.model);
  *class_names = bundle.metadata.common.class_names;
  const InferenceOptions request = RecordsRequest(command);
  DetectionEvalBuilder builder(command.gallery);
  const InferenceSummary summary = RunDetectionInference(bundle, request, [&](const DetectionImage& image) {
    builder.Add(*image.example, *image.example, image.source);
  });
  CheckSomethingEvaluated(command, summary.images, summary);
  DetectionEvalResult result = builder.Evaluate(*class_names, command.threads);
  result.matched_by = "same record";
  result.warnings = summary.problems;
  return result;
}

namespace {

// The detection branch of RunEvalCommand: COCO box (and mask) AP.
DetectionEvalResult EvaluateDetection(const EvalOptions& command, std::vector<std::string>* names) {
  DetectionEvalResult result;
  if (!command.predictions.empty()) {
    result = EvaluateDetectionRecords(command.predictions, command.groundtruth, *names, command.threads,
                                      command.gallery);
  } else {
    std::vector<std::string> bundle_names;
    result = EvaluateDetectionModelOnRecords(command, &bundle_names);
    if (names->empty()) *names = bundle_names;
  }
  WriteFileAtomic(command.output, DetectionMetricsToJson(result));
  if (!command.logdir.empty()) {
    EventWriter events(command.logdir);
    events.AddScalar("eval/DetectionBoxes_Precision/mAP", result.bbox.stats[0], 0);
    events.AddScalar("eval/DetectionBoxes_Precision/mAP@.50IOU", result.bbox.stats[1], 0);
    if (result.segm) events.AddScalar("eval/DetectionMasks_Precision/mAP", result.segm->stats[0], 0);
  }
  return result;
}

// metrics.json: the metrics, then every image's score and the worst images' thumbnails.
std::string SemanticMetricsWithGallery(const SemanticEvalResult& result, const std::vector<std::string>& names) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(SemanticMetricsToJson(result.metrics, names));
  const nlohmann::json gallery = GalleryToJson(result.image_scores, result.gallery);
  j["image_scores"] = gallery["image_scores"];
  j["gallery"] = gallery["gallery"];
  j["gallery_ranked_by"] = gallery["gallery_ranked_by"];
  return j.dump(2) + "\n";
}

std::vector<std::string> NamesFromLabelMap(const std::string& path) {
  if (path.empty()) return {};
  return LabelMapClassNames(LoadLabelMap(path), /*num_classes=*/-1);
}

void WriteEvents(const std::filesystem::path& logdir, const SemanticMetrics& m, const std::vector<std::string>& names) {
  EventWriter events(logdir);
  events.AddScalar("eval/mIoU", m.mean_iou, 0);
  events.AddScalar("eval/pixel_accuracy", m.pixel_accuracy, 0);
  events.AddScalar("eval/mean_class_accuracy", m.mean_class_accuracy, 0);
  events.AddScalar("eval/frequency_weighted_IoU", m.frequency_weighted_iou, 0);
  for (size_t c = 0; c < m.per_class.size(); ++c) {
    if (!m.per_class[c].present) continue;
    const std::string name = c < names.size() && !names[c].empty() ? names[c] : "class_" + std::to_string(c);
    events.AddScalar("eval/IoU/" + name, m.per_class[c].iou, 0);
  }
}

}  // namespace

EvalCommandResult RunEvalCommand(const EvalOptions& command) {
  const bool from_predictions = !command.predictions.empty();
  const bool from_model = !command.model.empty();
  if (from_predictions == from_model) {
    throw UsageError("segtune eval: pass either --predictions [--groundtruth] or --model with --data");
  }
  if (from_model && command.data.empty()) throw UsageError("segtune eval --model: --data (ground-truth records) is required");
  // Before the evaluation, which may run a model over every record.
  CheckOutputFile(command.output, command.overwrite, {"eval", "--output", "metrics JSON", {}},
                  [](const std::filesystem::path& p) { return FileStartsWith(p, '{'); });
  EvalCommandResult out;
  out.class_names = NamesFromLabelMap(command.label_map);
  out.output = command.output;
  if (from_predictions ? HasDetectionPredictions(command.predictions) : IsDetectionBundle(command.model)) {
    out.detection = EvaluateDetection(command, &out.class_names);
    return out;
  }
  SemanticEvalResult result;
  if (from_predictions) {
    SemanticEvalOptions request;
    request.predictions = command.predictions;
    request.groundtruth = command.groundtruth;
    request.num_classes = command.num_classes;
    request.ignore_label = command.ignore_label;
    request.gallery = command.gallery;
    result = EvaluateSemanticRecords(request);
  } else {
    std::vector<std::string> bundle_names;
    result = EvaluateModelOnRecords(command, &bundle_names);
    if (out.class_names.empty()) out.class_names = bundle_names;
  }
  WriteFileAtomic(command.output, SemanticMetricsWithGallery(result, out.class_names));
  if (!command.logdir.empty()) WriteEvents(command.logdir, result.metrics, out.class_names);
  out.semantic = std::move(result);
  return out;
}

const std::vector<std::string>& EvalCommandResult::warnings() const {
  static const std::vector<std::string> kNone;
  return detection ? detection->warnings : semantic ? semantic->warnings : kNone;
}

std::string FormatEvalCommandResult(const EvalCommandResult& result) {
  if (result.detection) {
    return std::to_string(result.detection->images) + " images, matched by " + result.detection->matched_by + "\n" +
           FormatDetectionEval(*result.detection);
  }
  if (!result.semantic) return "";
  return std::to_string(result.semantic->images) + " images, matched by " + result.semantic->matched_by + "\n" +
         FormatSemanticTable(result.semantic->metrics, result.class_names);
}

}  // namespace segtune
