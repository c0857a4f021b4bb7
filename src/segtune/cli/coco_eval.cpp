// `segtune coco-eval`: COCO bbox/segm metrics with pycocotools' semantics.
#include <iostream>
#include <memory>
#include <string>

#include "segtune/cli/verb.h"
#include "segtune/core/log.h"
#include "segtune/evaluation/coco_eval_command.h"

namespace {

// Runs in the front end (no plugin): evaluation/ needs neither LibTorch nor OpenCV, so coco-eval
// starts in milliseconds (tests/cli/startup_test.cpp).
int Run(const segtune::CocoEvalOptions& options) {
  const segtune::CocoEvalCommandResult result = segtune::RunCocoEvalCommand(options);
  for (const auto& w : result.warnings) segtune::Warn(w);
  const segtune::CocoEvalResult& r = result.eval;
  segtune::Info("coco-eval: " + std::string(segtune::CocoIouTypeName(r.iou_type)) + ", " +
                segtune::WithCommas(long(r.num_images)) + " images, " + segtune::WithCommas(long(r.num_gt)) +
                " ground truths, " + segtune::WithCommas(long(r.num_dt)) + " detections, evaluated in " +
                std::to_string(r.seconds) + " s");
  std::cout << segtune::FormatCocoSummary(r);
  if (options.per_class) std::cout << "\n" << segtune::FormatCocoPerClass(r);
  std::cout << "wrote " << result.output.string() << "\n";
  return 0;
}

segtune::cli::Runner Setup(CLI::App& app) {
  auto o = std::make_shared<segtune::CocoEvalOptions>();
  app.add_option("--groundtruth,--gt", o->gt, "Ground truth COCO JSON (instances.json)")->required();
  app.add_option("--predictions,--dt", o->dt, "Detections: a COCO results JSON array")->required();
  app.add_option("--type", o->type, "bbox or segm")->check(CLI::IsMember({"bbox", "segm"}));
  app.add_option("--img-ids", o->img_ids, "Evaluate only these image ids")->delimiter(',');
  app.add_option("--cat-ids", o->cat_ids, "Evaluate only these category ids")->delimiter(',');
  app.add_option("--max-dets", o->max_dets, "Max detections per image, 3 values (default 1,10,100)")->delimiter(',');
  app.add_flag("--per-class", o->per_class, "Also print AP and AP50 per category");
  app.add_flag("--no-cats{false}", o->use_cats,
               "Ignore categories: any detection may match any ground truth (pycocotools useCats=0)");
  app.add_option("-o,--output", o->output, "metrics.json path (default: next to --predictions)");
  app.add_flag("--overwrite", o->overwrite,
               "Replace a previous metrics file of this name (a JSON object); other files are never replaced");
  app.footer("Prints the 12-line COCOeval summary (same numbers as pycocotools) and writes metrics.json.");
  return [o] {
    o->threads = segtune::cli::Globals().threads;
    return Run(*o);
  };
}

}  // namespace

// Registered by hand: the verb name has a dash, which SEGTUNE_VERB's identifier cannot carry.
static const bool segtune_verb_registered_coco_eval [[maybe_unused]] = segtune::cli::RegisterVerb(
    {"coco-eval", 55, "Evaluate COCO detections or masks (AP/AR exactly as pycocotools)", Setup});
