// `segtune infer` never replaces what it did not write: see core/output_guard.h and docs/security.md.
#include "segtune/core/output_guard.h"
#include "segtune/data/shard_set.h"
#include "segtune/inference/inference.h"

namespace segtune {

void CheckInferenceOutputs(const InferenceRequest& r) {
  if (!r.output.empty()) CheckOutputFile(r.output, r.overwrite, {"infer", "--output", "TFRecord", {}}, LooksLikeTFRecord);
  if (!r.coco_results.empty()) {
    CheckOutputFile(r.coco_results, r.overwrite, {"infer", "--coco-results", "COCO results", {}},
                    [](const std::filesystem::path& p) { return FileStartsWith(p, '['); });
  }
  CheckOutputFilesDirectory(r.masks_dir, r.overwrite, {"infer", "--masks-dir", "infer", {}}, {".png"});
  CheckOutputFilesDirectory(r.overlays_dir, r.overwrite, {"infer", "--overlays-dir", "infer", {}}, {".jpg"});
}

}  // namespace segtune
