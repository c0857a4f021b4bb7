// `segtune eval`: segmentation metrics or detection COCO AP of predictions or of a model (inference/infer_eval.h).
#include "segtune/cli/skip_corrupt.h"
#include "segtune/cli/verb.h"
#include "segtune/core/prefetch.h"
#include "segtune/inference/torch/infer_eval.h"  // EvalOptions only: the front end links no inference code.
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>

#include "segtune/core/log.h"
#include "segtune/data/opencv_codecs.h"
#endif

namespace {

segtune::cli::Runner Setup(CLI::App& app) {
  auto o = std::make_shared<segtune::EvalOptions>();
  app.add_option("--predictions", o->predictions, "Records written by `segtune infer`");
  app.add_option("--groundtruth", o->groundtruth, "Ground-truth records (default: the keys kept in --predictions)");
  app.add_option("--model", o->model, "Export directory to evaluate (with --data)");
  app.add_option("--data", o->data, "Ground-truth records to run --model over");
  app.add_option("--output,-o", o->output, "metrics.json to write")->capture_default_str();
  app.add_flag("--overwrite", o->overwrite,
               "Replace a previous metrics file of this name (a JSON object); other files are never replaced");
  app.add_option("--logdir", o->logdir, "Also write a TensorBoard event file with the eval/* scalars here");
  app.add_option("--label-map", o->label_map, "label_map.pbtxt naming the classes");
  app.add_option("--num-classes", o->num_classes, "Classes (default: from the predictions or the model)");
  app.add_option("--ignore-label", o->ignore_label, "Ground-truth value not counted")->capture_default_str();
  app.add_option("--batch-size", o->batch_size, "Images per forward pass with --model")->capture_default_str();
  app.add_option("--engine", o->engine,
                 "With a semantic --model on the CPU: onednn (convolutions in oneDNN kernels) or torch (LibTorch "
                 "throughout); -v lists the layers that stay in LibTorch")
      ->capture_default_str()->check(CLI::IsMember({"onednn", "torch"}));
  app.add_option("--gallery", o->gallery,
                 "Segmentation: put thumbnails of this many worst images (by per-image IoU) into metrics.json for "
                 "`segtune report` (0 = none)")
      ->capture_default_str();
  segtune::cli::AddSkipCorruptFlag(app);
  app.footer("Matching: by image/source_id when unique on both sides, else by record order (printed). Detection "
             "predictions (image/detection/* keys) and detection models are scored with COCO AP (docs/detection.md).");
  return [o] {
    if (!o->model.empty()) {  // Read while the plugin loads.
      segtune::PrefetchModel(o->model);
      segtune::PrefetchInputs({o->data});
    }
    return segtune::cli::RunInPlugin("eval", *o);
  };
}

#if SEGTUNE_PLUGIN
int Run(const segtune::EvalOptions& o) {
  segtune::PreloadOpenCvCodecs();  // While the model loads.
  segtune::EvalOptions c = o;
  c.threads = segtune::cli::Globals().threads;
  c.device = segtune::cli::Globals().device;
  const segtune::EvalCommandResult result = segtune::RunEvalCommand(c);
  for (const auto& w : result.warnings()) segtune::Warn(w);
  std::cout << segtune::FormatEvalCommandResult(result);
  std::cout << "wrote " << result.output.string() << "\n";
  return 0;
}
#endif

}  // namespace

SEGTUNE_VERB(eval, 51, "Evaluate predictions or a model: mIoU for segmentation, COCO box/mask AP for detection", Setup);
SEGTUNE_PLUGIN_RUN(eval, segtune::EvalOptions, Run);
