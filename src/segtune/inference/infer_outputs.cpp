// Checks on an InferenceOptions: `segtune infer` never replaces what it did not write (see
// core/output_guard.h and docs/security.md), and skips unreadable inputs only where the request says so.
#include "segtune/core/error.h"
#include "segtune/core/output_guard.h"
#include "segtune/formats/shard_set.h"
#include "segtune/inference/inference.h"

namespace segtune {

void CheckInferenceOutputs(const InferenceOptions& r) {
  if (!r.output.empty()) CheckOutputFile(r.output, r.overwrite, {"infer", "--output", "TFRecord", {}}, LooksLikeTFRecord);
  if (!r.coco_results.empty()) {
    CheckOutputFile(r.coco_results, r.overwrite, {"infer", "--coco-results", "COCO results", {}},
                    [](const std::filesystem::path& p) { return FileStartsWith(p, '['); });
  }
  CheckOutputFilesDirectory(r.masks_dir, r.overwrite, {"infer", "--masks-dir", "infer", {}}, {".png"});
  CheckOutputFilesDirectory(r.overlays_dir, r.overwrite, {"infer", "--overlays-dir", "infer", {}}, {".jpg"});
}


void CheckSkippable(const InferenceOptions& options, const std::string& problem) {
  if (options.skip_unreadable) return;
  throw FormatError(problem + "; rerun with --skip-corrupt to skip unreadable records");
}

}  // namespace segtune
