// `segtune infer`: an export directory over TFRecords or images -> predictions (inference/inference.h).

#include "segtune/cli/verb.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>
#include "segtune/inference/inference.h"
#endif

namespace {

struct Options {
  bool discard_image_pixels = false, overwrite = false;
  std::string model;
  std::vector<std::string> inputs;
  std::string tf_inputs;  // --input_tfrecord_paths: comma-separated.
  std::string output, masks_dir, overlays_dir, coco_results;
  int batch_size = 4;
};

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
  app.add_option("--batch-size", o->batch_size, "Images per forward pass (same-size images are batched)")
      ->capture_default_str();
  app.footer("Output keys and files: docs/inference.md");
  return [o] {  // Usage errors before the plugin loads.
    if (o->inputs.empty() && o->tf_inputs.empty()) {
      throw segtune::UsageError("segtune infer: pass --input (or --input_tfrecord_paths)");
    }
    if (o->output.empty() && o->masks_dir.empty() && o->overlays_dir.empty() && o->coco_results.empty()) {
      throw segtune::UsageError("segtune infer: nothing to write; pass --output, --masks-dir, --overlays-dir or --coco-results");
    }
    return segtune::cli::RunInPlugin("infer", *o);
  };
}

#if SEGTUNE_PLUGIN
int Run(const Options& o) {
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
  const segtune::InferenceSummary s = segtune::RunInference(r);
  std::cout << "predicted " << s.images << " images (" << s.regions << " regions)";
  if (!o.output.empty()) std::cout << " -> " << o.output;
  std::cout << "\n" << segtune::FormatInferenceProblems(s);
  segtune::Info("time per stage (thread-seconds): " + segtune::FormatStageSeconds(s));
  if (s.images == 0 && s.skipped > 0) {  // Skipping is for a few bad items, not for a run with no result.
    throw segtune::Error("infer: every input was skipped (" + std::to_string(s.skipped) +
                         " unreadable item(s), listed above); nothing was predicted");
  }
  return 0;
}
#endif

}  // namespace

SEGTUNE_VERB(infer, 50, "Run an exported model over records or images and write the predictions", Setup);
SEGTUNE_PLUGIN_RUN(infer, Options, Run);
