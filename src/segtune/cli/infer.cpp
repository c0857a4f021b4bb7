// `segtune infer`: an export directory over TFRecords or images -> predictions (inference/inference.h).

#include "segtune/cli/verb.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/prefetch.h"
#include "segtune/data/convert/format_names.h"
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <unistd.h>

#include <iostream>
#include <optional>

#include "segtune/core/interrupt_cleanup.h"
#include "segtune/data/convert/convert.h"
#include "segtune/data/opencv_codecs.h"
#include "segtune/inference/inference.h"
#if SEGTUNE_INFER_PLUGIN
#include "segtune/inference/native_semantic_inference.h"
#endif
#endif

namespace {

struct Options {
  bool discard_image_pixels = false, overwrite = false;
  std::string model;
  std::vector<std::string> inputs;
  std::string tf_inputs;  // --input_tfrecord_paths: comma-separated.
  std::string output, masks_dir, overlays_dir, coco_results;
  int batch_size = 4;
  std::string engine = "onednn";
  // --export: the predictions in a labeling tool's format (data/convert/), e.g. labelbox-mal.
  std::string export_format, export_output, reference;
  double polygon_tolerance = 1.0, min_area = 4.0;
  std::vector<std::string> label_studio_controls;
  std::string label_studio_image;
};

// --export must name a format `segtune convert` can write; checked before the plugin loads.
void CheckExportOptions(const Options& o) {
  if (o.export_format.empty()) {
    if (!o.export_output.empty() || !o.reference.empty()) {
      throw segtune::UsageError("segtune infer: --export-output and --reference go with --export FORMAT");
    }
    return;
  }
  bool known = false;
  std::string names;
  for (const auto& f : segtune::AnnotationFormatNames()) {
    if (!f.writable) continue;
    known |= f.name == o.export_format;
    names += (names.empty() ? "" : ", ") + f.name;
  }
  if (!known) {
    throw segtune::UsageError("segtune infer: --export " + o.export_format +
                              ": not a format segtune writes (expected one of: " + names + ")");
  }
  if (o.export_output.empty()) throw segtune::UsageError("segtune infer: --export needs --export-output PATH");
}

segtune::cli::Runner Setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("--model,--inference_graph,-m", o->model, "Export directory from `segtune export`, or an .onnx file (run with OpenCV DNN)")
      ->required();
  app.add_option("--input,-i", o->inputs, "TFRecords (globs, shards), images, image directories or .txt lists");
  app.add_option("--input_tfrecord_paths", o->tf_inputs, "Comma-separated TFRecord paths (TF spelling)");
  app.add_option("--output,-o,--output_tfrecord_path", o->output, "TFRecord to write: inputs + predictions");
  app.add_flag("--discard-image-pixels,--discard_image_pixels", o->discard_image_pixels,
               "Drop image/encoded from the output records");
  app.add_option("--masks-dir", o->masks_dir,
                 "Write <image name>.png here: the class-index map (semantic models) or the instance-index map "
                 "(Mask R-CNN: pixel k = the k-th detection of the image's record, 0 = none)");
  app.add_option("--overlays-dir", o->overlays_dir, "Write overlays <image name>.jpg here (semantic: classes tinted + legend; detection: boxes, names, scores, masks)");
  app.add_option("--coco-results", o->coco_results, "Write COCO results JSON (semantic: one result per region with RLE; detection: boxes, RLE masks for Mask R-CNN)");
  app.add_flag("--overwrite", o->overwrite,
               "Replace existing outputs of a previous run (a TFRecord --output, a JSON --coco-results, masks/"
               "overlays directories holding only .png/.jpg); anything else is never replaced");
  app.add_option("--export", o->export_format,
                 "Also write the predictions in a labeling tool's format (as `segtune convert --to`), e.g. "
                 "labelbox-mal for Labelbox model-assisted labeling");
  app.add_option("--export-output", o->export_output, "File (or folder) --export writes");
  app.add_option("--reference", o->reference,
                 "The COCO file the input records were made from (e.g. from labelbox2coco): --export takes image "
                 "names, category names and Labelbox data row ids from it");
  app.add_option("--polygon-tolerance", o->polygon_tolerance,
                 "--export to polygon formats: pixels a polygon traced from a mask may deviate from it")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--min-area", o->min_area, "--export to polygon formats: mask regions under this many pixels are dropped")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--label-studio-control", o->label_studio_controls,
                 "--export labelstudio: the labeling config's control name (from_name): NAME, or KIND=NAME per "
                 "kind (rectangle, polygon, brush); default 'label'");
  app.add_option("--label-studio-image", o->label_studio_image,
                 "--export labelstudio: the labeling config's image object name (to_name); default 'image'");
  app.add_option("--batch-size", o->batch_size, "Images per forward pass (same-size images are batched)")
      ->capture_default_str();
  app.add_option("--engine", o->engine,
                 "Semantic models on the CPU: onednn (convolutions in oneDNN kernels; LR-ASPP and "
                 "DeepLabV3-MobileNetV3 run without loading LibTorch) or torch (LibTorch throughout); -v lists "
                 "the layers that stay in LibTorch")
      ->capture_default_str()->check(CLI::IsMember({"onednn", "torch"}));
  app.footer("Output keys and files: docs/inference.md");
  return [o] {  // Usage errors before the plugin loads.
    if (o->inputs.empty() && o->tf_inputs.empty()) {
      throw segtune::UsageError("segtune infer: pass --input (or --input_tfrecord_paths)");
    }
    if (o->output.empty() && o->masks_dir.empty() && o->overlays_dir.empty() && o->coco_results.empty() &&
        o->export_format.empty()) {
      throw segtune::UsageError(
          "segtune infer: nothing to write; pass --output, --masks-dir, --overlays-dir, --coco-results or --export");
    }
    CheckExportOptions(*o);
    segtune::PrefetchModel(o->model);  // Read while the plugin loads.
    segtune::PrefetchInputs(o->inputs);
    // The LibTorch-free runtime when it builds the model, else LibTorch (verb.h).
    return segtune::cli::RunInInferPlugin("infer", *o);
  };
}

#if SEGTUNE_PLUGIN
namespace fs = std::filesystem;

// The prediction record --export reads back when there is no --output: hidden beside the export
// output (same file system) and removed however the run ends.
class ScratchRecord {
 public:
  explicit ScratchRecord(const fs::path& export_output) {
    const fs::path out(export_output);
    path_ = out.parent_path() / ("." + out.filename().string() + ".predictions-" + std::to_string(::getpid()) + ".record");
    // Removed at the end: so it must be this run's own file, never one that was there before.
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path_, ec))) {
      throw segtune::UsageError("infer --export: " + path_.string() + " exists (a file of another run?); remove it or "
                                "pass --output to keep the prediction record");
    }
    segtune::RegisterInterruptCleanup(path_);
  }
  ~ScratchRecord() {
    std::error_code ec;
    fs::remove(path_, ec);
    segtune::UnregisterInterruptCleanup(path_);
  }
  ScratchRecord(const ScratchRecord&) = delete;
  ScratchRecord& operator=(const ScratchRecord&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The run's prediction record as `--export FORMAT` (docs/formats.md §18): read back by the tfrecord
// reader (joined to --reference), then written like `segtune convert --to FORMAT`.
void ExportPredictions(const Options& o, const fs::path& record, const segtune::InferenceSummary& summary) {
  segtune::ConvertOptions c;
  c.from = "tfrecord";
  c.to = o.export_format;
  c.input = record;
  c.output = o.export_output;
  c.check_images = false;  // The images were just read; the export describes predictions.
  c.write.overwrite = o.overwrite;
  c.write.polygon_tolerance = o.polygon_tolerance;
  c.write.min_area = o.min_area;
  c.write.label_studio_controls = o.label_studio_controls;
  c.write.label_studio_image = o.label_studio_image;
  segtune::ReadOptions read;
  read.reference = o.reference;
  segtune::ConversionReport report;
  segtune::LabeledDataset dataset = segtune::ReadAnnotations(record, "tfrecord", read, &report);
  dataset.embedded_images.clear();  // Predictions only: the images stay where the inputs are.
  if (o.reference.empty()) {  // Class names from the model instead of "class_<id>".
    for (auto& category : dataset.coco.categories) {
      const size_t id = static_cast<size_t>(category.id);
      if (category.id >= 0 && id < summary.class_names.size()) category.name = summary.class_names[id];
    }
  }
  segtune::WriteAnnotations(std::move(dataset), c, &report);
  for (const auto& warning : report.warnings) segtune::Warn("infer --export: " + warning.ToString());
  std::cout << "exported " << report.annotations << " predictions on " << report.images << " images -> "
            << o.export_output << " (" << o.export_format << ")\n";
}

segtune::InferenceOptions InferenceOptionsOf(const Options& o) {
  segtune::InferenceOptions r;
  r.discard_image_pixels = o.discard_image_pixels;
  r.overwrite = o.overwrite;
  r.model = o.model;
  r.inputs = o.inputs;
  if (!o.tf_inputs.empty()) r.inputs.push_back(o.tf_inputs);  // ExpandInputPaths splits commas.
  r.output = o.output;
  r.masks_dir = o.masks_dir;
  r.overlays_dir = o.overlays_dir;
  r.coco_results = o.coco_results;
  r.batch_size = o.batch_size;
  r.threads = segtune::cli::Globals().threads;
  r.device = segtune::cli::Globals().device;
  r.engine = o.engine;
  return r;
}

int Run(const Options& o) {
  segtune::InferenceOptions r = InferenceOptionsOf(o);
  // The model run over the inputs (r as changed below): in the infer plugin by the LibTorch-free
  // runtime, in the LibTorch plugin by LibTorch (inference/inference.h).
#if SEGTUNE_INFER_PLUGIN
  const segtune::NativeInferencePlan plan = segtune::PlanNativeInference(r);
  if (!plan.declined.empty()) {
    segtune::Debug("LibTorch-free runtime: not for this run (" + plan.declined + "); loading LibTorch");
    return segtune::cli::kRunInLibTorchPlugin;
  }
  const auto predict = [&r, &plan] { return segtune::RunNativeInference(r, plan); };
#else
  const auto predict = [&r] { return segtune::RunInference(r); };
#endif
  segtune::PreloadOpenCvCodecs();  // While the model loads.
  std::optional<ScratchRecord> scratch;
  if (!o.export_format.empty()) {
    if (fs::exists(o.export_output) && !o.overwrite) {  // Before the model runs, not after.
      throw segtune::UsageError("infer: --export-output " + o.export_output + " exists; pass --overwrite to replace a "
                                "previous export, or choose another path");
    }
    if (r.output.empty()) {
      scratch.emplace(o.export_output);
      r.output = scratch->path();
      r.discard_image_pixels = true;
    }
  }
  const segtune::InferenceSummary s = predict();
  std::cout << "predicted " << s.images << " images (" << s.regions << " regions)";
  if (!o.output.empty()) std::cout << " -> " << o.output;
  std::cout << "\n" << segtune::FormatInferenceProblems(s);
  segtune::Info("time per stage (thread-seconds): " + segtune::FormatStageSeconds(s));
  if (s.images == 0 && s.skipped > 0) {  // Skipping is for a few bad items, not for a run with no result.
    throw segtune::Error("infer: every input was skipped (" + std::to_string(s.skipped) +
                         " unreadable item(s), listed above); nothing was predicted");
  }
  if (!o.export_format.empty()) ExportPredictions(o, r.output, s);
  return 0;
}
#endif

}  // namespace

SEGTUNE_VERB(infer, 50, "Run an exported model over records or images and write the predictions", Setup);
SEGTUNE_PLUGIN_RUN(infer, Options, Run);
SEGTUNE_INFER_PLUGIN_RUN(infer, Options, Run);
