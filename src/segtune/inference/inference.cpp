#include "segtune/inference/inference.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/progress.h"
#include "segtune/data/example.h"
#include "segtune/data/image_codec.h"
#include "segtune/data/tfrecord.h"
#include "segtune/inference/infer_inputs.h"
#include "segtune/inference/predict_overlay.h"
#include "segtune/inference/predict_regions.h"

namespace segtune {

Bundle LoadInferenceModel(const std::filesystem::path& model) {
  if (std::filesystem::is_directory(model)) return LoadBundle(model);
  if (model.extension() == ".onnx") {
    const auto dir = model.parent_path().empty() ? std::filesystem::path(".") : model.parent_path();
    if (std::filesystem::exists(dir / "model.json")) {
      Info("using the native bundle in " + dir.string() + " (same weights as " + model.filename().string() + ")");
      return LoadBundle(dir);
    }
    throw UsageError(model.string() +
                     ": a lone .onnx file is not supported by segtune infer; pass the export directory "
                     "(model.json + model.safetensors) written by `segtune export`");
  }
  if (!std::filesystem::exists(model)) throw IoError(model.string() + ": no such export directory");
  throw UsageError(model.string() + ": expected an export directory written by `segtune export`");
}

namespace {

// Runs f(i) for i in [0, n) on up to `threads` threads.
template <typename F>
void ParallelFor(size_t n, int threads, F f) {
  const size_t workers = std::min<size_t>(n, static_cast<size_t>(std::max(1, threads)));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < workers; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) f(i);
    });
  }
  for (auto& th : pool) th.join();
}

struct Work {
  InferenceItem item;
  std::string problem;  // Non-empty: skipped.
  tensorflow::Example example;
  cv::Mat image;        // BGR.
  std::string name;
  cv::Mat class_map, probability;
  std::string serialized;  // Output record.
  std::vector<PredictedRegion> regions;
};

std::string NameOf(const tensorflow::Example& example, const InferenceItem& item) {
  auto bytes = [&](const char* key) -> std::string {
    auto it = example.features().feature().find(key);
    if (it == example.features().feature().end() || it->second.bytes_list().value_size() == 0) return "";
    return it->second.bytes_list().value(0);
  };
  std::string name = std::filesystem::path(bytes("image/filename")).stem().string();
  if (name.empty()) name = bytes("image/source_id");
  if (name.empty()) name = "image-" + std::to_string(item.index);
  for (char& c : name) {
    if (c == '/' || c == '\\') c = '_';
  }
  return name;
}

void Decode(Work* w) {
  try {
    std::string encoded;
    if (w->item.from_record) {
      w->example = ParseExample(w->item.record, w->item.source);
      w->item.record.clear();
      auto it = w->example.features().feature().find("image/encoded");
      if (it == w->example.features().feature().end() || it->second.bytes_list().value_size() == 0) {
        w->problem = w->item.source + ": no image/encoded";
        return;
      }
      encoded = it->second.bytes_list().value(0);
    } else {
      encoded = ReadFile(w->item.image_path);
    }
    w->image = cv::imdecode(cv::Mat(1, static_cast<int>(encoded.size()), CV_8U, encoded.data()), cv::IMREAD_COLOR);
    if (w->image.empty()) {
      w->problem = w->item.source + ": image does not decode";
      return;
    }
    if (!w->item.from_record) {
      const std::string filename = w->item.image_path.filename().string();
      SetBytes(&w->example, "image/encoded", encoded);
      SetBytes(&w->example, "image/format", ImageFormatName(DetectImageFormat(encoded)));
      SetBytes(&w->example, "image/filename", filename);
      SetBytes(&w->example, "image/source_id", filename);
      SetInt64(&w->example, "image/height", w->image.rows);
      SetInt64(&w->example, "image/width", w->image.cols);
    }
    w->name = NameOf(w->example, w->item);
  } catch (const Error& e) {
    w->problem = e.what();
  }
}

// Predicts a batch of same-size images: fills class_map and probability.
void PredictBatch(SegmentationModelImpl& model, const BundleMetadata& meta, const torch::Device& device,
                  const std::vector<Work*>& batch) {
  const int64_t n = static_cast<int64_t>(batch.size());
  const int h = batch[0]->image.rows, w = batch[0]->image.cols;
  torch::Tensor rgb = torch::empty({n, h, w, 3}, torch::kUInt8);
  for (int64_t k = 0; k < n; ++k) {
    cv::Mat dst(h, w, CV_8UC3, rgb[k].data_ptr<uint8_t>());
    cv::cvtColor(batch[k]->image, dst, cv::COLOR_BGR2RGB);
  }
  const auto mean = torch::tensor({meta.mean[0], meta.mean[1], meta.mean[2]}).view({1, 3, 1, 1}).to(device);
  const auto std = torch::tensor({meta.std[0], meta.std[1], meta.std[2]}).view({1, 3, 1, 1}).to(device);
  torch::Tensor x = rgb.to(device).permute({0, 3, 1, 2}).to(torch::kFloat).div_(255.f).sub_(mean).div_(std);
  torch::Tensor logits = model.forward(x).out;
  auto [probability, index] = torch::softmax(logits, 1).max(1);
  probability = probability.to(torch::kCPU).contiguous();
  index = index.to(torch::kCPU, torch::kUInt8).contiguous();
  for (int64_t k = 0; k < n; ++k) {
    batch[k]->class_map = cv::Mat(h, w, CV_8UC1, index[k].data_ptr<uint8_t>()).clone();
    batch[k]->probability = cv::Mat(h, w, CV_32FC1, probability[k].data_ptr<float>()).clone();
  }
}

struct SideOutputs {
  const InferenceRequest& request;
  const std::vector<std::string>& names;
  int64_t num_classes;
};

void AddPredictionKeys(Work* w, int64_t num_classes, bool discard_pixels) {
  const cv::Mat& map = w->class_map;
  SetBytes(&w->example, "image/segmentation/class/predicted", EncodeGrayPng(map.data, map.rows, map.cols));
  SetBytes(&w->example, "image/segmentation/class/predicted/format", "png");
  SetFloatList(&w->example, "image/segmentation/class/fraction", ClassFractions(map, static_cast<int>(num_classes)));
  std::vector<float> ymin, xmin, ymax, xmax, score;
  std::vector<int64_t> label;
  for (const auto& r : w->regions) {
    ymin.push_back(static_cast<float>(r.y) / map.rows);
    xmin.push_back(static_cast<float>(r.x) / map.cols);
    ymax.push_back(static_cast<float>(r.y + r.height) / map.rows);
    xmax.push_back(static_cast<float>(r.x + r.width) / map.cols);
    score.push_back(r.score);
    label.push_back(r.label);
  }
  SetFloatList(&w->example, "image/detection/bbox/ymin", ymin);
  SetFloatList(&w->example, "image/detection/bbox/xmin", xmin);
  SetFloatList(&w->example, "image/detection/bbox/ymax", ymax);
  SetFloatList(&w->example, "image/detection/bbox/xmax", xmax);
  SetFloatList(&w->example, "image/detection/score", score);
  SetInt64List(&w->example, "image/detection/label", label);
  if (discard_pixels) w->example.mutable_features()->mutable_feature()->erase("image/encoded");
}

void PostProcess(Work* w, const SideOutputs& out) {
  const InferenceRequest& req = out.request;
  w->regions = FindPredictedRegions(w->class_map, w->probability, static_cast<int>(out.num_classes), 1,
                                    !req.coco_results.empty());
  if (!req.masks_dir.empty()) {
    WriteFileAtomic(req.masks_dir / (w->name + ".png"),
                    EncodeGrayPng(w->class_map.data, w->class_map.rows, w->class_map.cols));
  }
  if (!req.overlays_dir.empty()) {
    std::vector<uint8_t> jpeg;
    cv::imencode(".jpg", RenderOverlay(w->image, w->class_map, out.names), jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
    WriteFileAtomic(req.overlays_dir / (w->name + ".jpg"),
                    std::string_view(reinterpret_cast<const char*>(jpeg.data()), jpeg.size()));
  }
  AddPredictionKeys(w, out.num_classes, req.discard_image_pixels);
  if (!req.output.empty()) w->serialized = w->example.SerializeAsString();
}

nlohmann::json CocoResults(const Work& w) {
  nlohmann::json results = nlohmann::json::array();
  std::string source_id;
  auto it = w.example.features().feature().find("image/source_id");
  if (it != w.example.features().feature().end() && it->second.bytes_list().value_size() > 0) {
    source_id = it->second.bytes_list().value(0);
  }
  if (source_id.empty()) source_id = w.name;
  const bool numeric = !source_id.empty() && source_id.size() < 18 &&
                       std::all_of(source_id.begin(), source_id.end(), [](char c) { return c >= '0' && c <= '9'; });
  for (const auto& r : w.regions) {
    nlohmann::json d;
    if (numeric) {
      d["image_id"] = std::stoll(source_id);
    } else {
      d["image_id"] = source_id;
    }
    d["category_id"] = r.label;
    d["bbox"] = {r.x, r.y, r.width, r.height};
    d["score"] = r.score;
    d["segmentation"] = {{"size", {w.class_map.rows, w.class_map.cols}}, {"counts", r.rle}};
    results.push_back(std::move(d));
  }
  return results;
}

}  // namespace

InferenceSummary RunInference(const InferenceRequest& request, const PredictionSink& sink) {
  Bundle bundle = LoadInferenceModel(request.model);
  return RunInference(bundle, request, sink);
}

InferenceSummary RunInference(Bundle& bundle, const InferenceRequest& request, const PredictionSink& sink) {
  if (request.batch_size < 1) throw UsageError("--batch-size must be >= 1");
  torch::NoGradGuard no_grad;
  at::set_num_threads(std::max(1, request.threads));
  const torch::Device device(request.device);
  SegmentationModelImpl& model = *bundle.model;
  model.to(device);
  model.eval();
  if (device.is_cpu()) model.SetChannelsLast(true);

  InferenceSummary summary;
  summary.class_names = bundle.metadata.class_names;
  summary.num_classes = bundle.metadata.num_classes;
  InferenceInputs inputs(request.inputs);
  std::unique_ptr<TFRecordWriter> writer;
  if (!request.output.empty()) writer = std::make_unique<TFRecordWriter>(request.output);
  nlohmann::json coco = nlohmann::json::array();
  const SideOutputs side{request, bundle.metadata.class_names, bundle.metadata.num_classes};
  std::set<std::string> used_names;
  Progress progress("infer", inputs.KnownTotal(), "img");
  const size_t chunk = static_cast<size_t>(request.batch_size) * 4;
  std::vector<Work> works;
  bool more = true;
  while (more) {
    works.clear();
    InferenceItem item;
    while (works.size() < chunk && (more = inputs.Next(&item))) works.push_back(Work{std::move(item)});
    if (works.empty()) break;
    ParallelFor(works.size(), request.threads, [&](size_t i) { Decode(&works[i]); });
    std::vector<Work*> ok;
    for (auto& w : works) {
      if (!w.problem.empty()) continue;
      while (!used_names.insert(w.name).second) w.name += "-" + std::to_string(w.item.index);
      ok.push_back(&w);
    }
    for (size_t i = 0; i < ok.size();) {  // Batches of consecutive same-size images.
      std::vector<Work*> batch{ok[i++]};
      while (i < ok.size() && static_cast<int>(batch.size()) < request.batch_size &&
             ok[i]->image.size() == batch[0]->image.size()) {
        batch.push_back(ok[i++]);
      }
      PredictBatch(model, bundle.metadata, device, batch);
    }
    ParallelFor(ok.size(), request.threads, [&](size_t i) { PostProcess(ok[i], side); });
    for (auto& w : works) {
      if (!w.problem.empty()) {
        Warn("skipped " + w.problem);
        summary.problems.push_back(w.problem);
        ++summary.skipped;
        continue;
      }
      if (sink) sink({w.item.source, w.name, &w.example, w.image, w.class_map, w.probability});
      if (writer) writer->Write(w.serialized);
      if (!request.coco_results.empty()) {
        for (auto& d : CocoResults(w)) coco.push_back(std::move(d));
      }
      summary.regions += static_cast<int64_t>(w.regions.size());
      ++summary.images;
      progress.Advance();
    }
  }
  progress.Finish();
  for (const auto& p : inputs.problems()) {
    summary.problems.push_back(p);
    ++summary.skipped;
  }
  if (writer) writer->Close();
  if (!request.coco_results.empty()) WriteFileAtomic(request.coco_results, coco.dump());
  summary.seconds = progress.ElapsedSeconds();
  return summary;
}

std::string FormatInferenceProblems(const InferenceSummary& summary) {
  if (summary.problems.empty()) return "";
  std::string text = "skipped " + std::to_string(summary.skipped) + " unreadable item(s):\n";
  for (const auto& p : summary.problems) text += "  " + p + "\n";
  return text;
}

}  // namespace segtune
