#include "segtune/config/detection_config.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "segtune/config/model_catalog.h"
#include "segtune/core/error.h"

namespace segtune {

namespace cfg = segtune::config;

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The short and long side the TF resizer asks for ({0, 0} when there is no resizer).
std::pair<int, int> ResizerSides(const cfg::ImageResizer& r) {
  if (r.has_keep_aspect_ratio_resizer()) {
    return {r.keep_aspect_ratio_resizer().min_dimension(), r.keep_aspect_ratio_resizer().max_dimension()};
  }
  if (r.has_fixed_shape_resizer()) {
    const auto& f = r.fixed_shape_resizer();
    return {std::min(f.height(), f.width()), std::max(f.height(), f.width())};
  }
  return {0, 0};
}

// The torchvision model for a TF feature extractor type, "" when there is none. *note gets what
// the user should know about the choice ("" when the match is exact).
std::string NearestDetectionModel(const std::string& type, bool masks, int short_side, std::string* note) {
  const std::string t = Lower(type);
  auto has = [&t](const char* s) { return t.find(s) != std::string::npos; };
  if (has("resnet")) {
    if (!has("resnet50") || has("inception")) {
      *note = "torchvision has no Faster R-CNN with this backbone: using the ResNet-50 FPN model";
    }
    return masks ? "maskrcnn_resnet50_fpn" : "fasterrcnn_resnet50_fpn";
  }
  if (has("mobilenet")) {
    if (masks) {
      *note = "no MobileNet Mask R-CNN exists: using maskrcnn_resnet50_fpn (much slower)";
      return "maskrcnn_resnet50_fpn";
    }
    if (!has("mobilenet_v3")) *note = "using torchvision's MobileNetV3-Large FPN backbone";
    return short_side > 0 && short_side <= 320 ? "fasterrcnn_mobilenet_v3_large_320_fpn"
                                               : "fasterrcnn_mobilenet_v3_large_fpn";
  }
  return "";
}

void SetResizer(const cfg::ImageResizer& r, cfg::DetectionArchitecture* det, std::vector<std::string>* notes) {
  const auto [short_side, long_side] = ResizerSides(r);
  if (short_side <= 0) return;
  det->set_min_size(short_side);
  det->set_max_size(long_side);
  if (r.has_fixed_shape_resizer()) {
    notes->push_back("fixed_shape_resizer becomes min_size " + std::to_string(short_side) + " / max_size " +
                     std::to_string(long_side) + " (torchvision keeps the aspect ratio)");
  }
  if (r.has_keep_aspect_ratio_resizer() && r.keep_aspect_ratio_resizer().pad_to_max_dimension()) {
    notes->push_back("pad_to_max_dimension: torchvision pads each batch to a multiple of 32 instead");
  }
}

void SetPostProcessing(const cfg::PostProcessing& post, cfg::DetectionArchitecture* det,
                       std::vector<std::string>* notes) {
  if (post.has_batch_non_max_suppression()) {
    const auto& nms = post.batch_non_max_suppression();
    det->set_box_score_thresh(nms.score_threshold());
    det->set_box_nms_thresh(nms.iou_threshold());
    det->set_box_detections_per_img(nms.max_total_detections());
    if (nms.max_detections_per_class() < nms.max_total_detections()) {
      notes->push_back("max_detections_per_class " + std::to_string(nms.max_detections_per_class()) +
                       " is not applied: torchvision keeps the best max_total_detections (" +
                       std::to_string(nms.max_total_detections()) + ") over all classes");
    }
  }
  if (post.has_score_converter() && post.score_converter() != cfg::PostProcessing::SOFTMAX) {
    notes->push_back("score_converter " + cfg::PostProcessing::ScoreConverter_Name(post.score_converter()) +
                     " is not applied: torchvision's box scores are a softmax");
  }
}

cfg::DetectionArchitecture FromFasterRcnn(const cfg::FasterRcnn& tf, const std::string& model,
                                          std::vector<std::string>* notes) {
  cfg::DetectionArchitecture det;
  det.set_architecture(model);
  if (tf.has_num_classes()) det.set_num_classes(tf.num_classes() + 1);
  if (tf.has_image_resizer()) SetResizer(tf.image_resizer(), &det, notes);
  if (tf.has_first_stage_max_proposals()) {
    det.set_rpn_post_nms_top_n_train(tf.first_stage_max_proposals());
    det.set_rpn_post_nms_top_n_test(tf.first_stage_max_proposals());
  }
  if (tf.has_first_stage_nms_iou_threshold()) det.set_rpn_nms_thresh(tf.first_stage_nms_iou_threshold());
  if (tf.has_first_stage_nms_score_threshold()) det.set_rpn_score_thresh(tf.first_stage_nms_score_threshold());
  if (tf.has_first_stage_minibatch_size()) det.set_rpn_batch_size_per_image(tf.first_stage_minibatch_size());
  if (tf.has_first_stage_positive_balance_fraction()) {
    det.set_rpn_positive_fraction(tf.first_stage_positive_balance_fraction());
  }
  if (tf.has_second_stage_batch_size()) det.set_box_batch_size_per_image(tf.second_stage_batch_size());
  if (tf.has_second_stage_balance_fraction()) det.set_box_positive_fraction(tf.second_stage_balance_fraction());
  if (tf.has_second_stage_post_processing()) SetPostProcessing(tf.second_stage_post_processing(), &det, notes);
  det.set_rpn_objectness_loss_weight(tf.first_stage_objectness_loss_weight());
  det.set_rpn_box_loss_weight(tf.first_stage_localization_loss_weight());
  det.set_classifier_loss_weight(tf.second_stage_classification_loss_weight());
  det.set_box_loss_weight(tf.second_stage_localization_loss_weight());
  det.set_mask_loss_weight(tf.second_stage_mask_prediction_loss_weight());
  return det;
}

// The decimal a float field was written as (0.7f -> 0.7, not 0.699999988): thresholds then equal
// torchvision's Python floats.
double Decimal(float value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.7g", value);
  return std::strtod(text, nullptr);
}

}  // namespace

bool IsDetectionConfig(const PipelineConfig& config) { return config.proto.model().has_detection(); }

void MapFasterRcnn(PipelineConfig* config) {
  const cfg::FasterRcnn tf = config->proto.model().faster_rcnn();
  const std::string type = tf.feature_extractor().type();
  const bool masks = tf.second_stage_box_predictor().mask_rcnn_box_predictor().predict_instance_masks();
  std::string note;
  const std::string model = NearestDetectionModel(type, masks, ResizerSides(tf.image_resizer()).first, &note);
  if (model.empty()) {
    throw FormatError(config->path, "model.faster_rcnn",
                      "feature extractor '" + type +
                          "' has no torchvision counterpart (segtune's detection models have a ResNet-50 or "
                          "MobileNetV3-Large FPN backbone). Replace the model block with e.g. model { detection { "
                          "architecture: \"fasterrcnn_resnet50_fpn\" num_classes: N } } (N = classes + 1 for "
                          "background); architectures: " + ModelNames(ModelTask::kDetection) +
                          " (or model { segmentation { ... } } for semantic segmentation)");
  }
  std::vector<std::string> notes;
  if (!note.empty()) notes.push_back(note);
  const cfg::DetectionArchitecture det = FromFasterRcnn(tf, model, &notes);
  config->mapped_from = "faster_rcnn (feature_extractor.type " + type + ")";
  std::string message = "TF Faster R-CNN (" + type + ") mapped to segtune detection model " + model;
  if (det.has_num_classes()) {
    message += " with num_classes " + std::to_string(det.num_classes()) + " (" + std::to_string(tf.num_classes()) +
               " TF classes + background)";
  }
  config->warnings.push_back({0, "model.faster_rcnn", message});
  for (const std::string& n : notes) config->warnings.push_back({0, "model.faster_rcnn", n});
  *config->proto.mutable_model()->mutable_detection() = det;
}

void MoveDetectionArchitecture(PipelineConfig* config) {
  if (!config->proto.model().has_segmentation()) return;
  const cfg::SemanticModel seg = config->proto.model().segmentation();
  if (!IsDetectionModel(seg.architecture())) return;
  cfg::DetectionArchitecture det;
  det.set_architecture(seg.architecture());
  if (seg.has_num_classes()) det.set_num_classes(seg.num_classes());
  std::vector<std::string> notes;
  if (seg.has_image_resizer()) SetResizer(seg.image_resizer(), &det, &notes);
  for (const std::string& n : notes) config->warnings.push_back({0, "model.segmentation.image_resizer", n});
  *config->proto.mutable_model()->mutable_detection() = det;
}

DetectionConfig DetectionConfigFromPipeline(const PipelineConfig& config) {
  if (!IsDetectionConfig(config)) {
    throw UsageError(config.path.string() + ": not a detection config (model is not detection { ... } or a TF "
                     "faster_rcnn block)");
  }
  const cfg::DetectionArchitecture& d = config.proto.model().detection();
  if (!IsDetectionModel(d.architecture())) {
    throw UsageError(config.path.string() + ": model.detection.architecture '" + d.architecture() +
                     "' is not a detection model; use one of: " + ModelNames(ModelTask::kDetection));
  }
  DetectionConfig out{d.architecture(), detection::DefaultDetectionOptions(d.architecture())};
  auto& o = out.options;
  if (!d.has_num_classes() || d.num_classes() < 2) {
    throw UsageError(config.path.string() + ": model.detection.num_classes must be >= 2 (background + classes), got " +
                     std::to_string(d.num_classes()));
  }
  o.num_classes = d.num_classes();
  if (d.has_min_size()) o.min_size = d.min_size();
  if (d.has_max_size()) o.max_size = d.max_size();
  if (d.has_rpn_pre_nms_top_n_train()) o.rpn.pre_nms_top_n_train = d.rpn_pre_nms_top_n_train();
  if (d.has_rpn_pre_nms_top_n_test()) o.rpn.pre_nms_top_n_test = d.rpn_pre_nms_top_n_test();
  if (d.has_rpn_post_nms_top_n_train()) o.rpn.post_nms_top_n_train = d.rpn_post_nms_top_n_train();
  if (d.has_rpn_post_nms_top_n_test()) o.rpn.post_nms_top_n_test = d.rpn_post_nms_top_n_test();
  if (d.has_rpn_nms_thresh()) o.rpn.nms_thresh = Decimal(d.rpn_nms_thresh());
  if (d.has_rpn_score_thresh()) o.rpn.score_thresh = Decimal(d.rpn_score_thresh());
  if (d.has_rpn_batch_size_per_image()) o.rpn.batch_size_per_image = d.rpn_batch_size_per_image();
  if (d.has_rpn_positive_fraction()) o.rpn.positive_fraction = Decimal(d.rpn_positive_fraction());
  if (d.has_box_batch_size_per_image()) o.box.batch_size_per_image = d.box_batch_size_per_image();
  if (d.has_box_positive_fraction()) o.box.positive_fraction = Decimal(d.box_positive_fraction());
  if (d.has_box_score_thresh()) o.box.score_thresh = Decimal(d.box_score_thresh());
  if (d.has_box_nms_thresh()) o.box.nms_thresh = Decimal(d.box_nms_thresh());
  if (d.has_box_detections_per_img()) o.box.detections_per_img = d.box_detections_per_img();
  if (d.has_trainable_backbone_layers()) o.trainable_backbone_layers = d.trainable_backbone_layers();
  return out;
}

}  // namespace segtune
