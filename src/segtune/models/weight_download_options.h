// Download limits for model files, apart from the catalog so the CLI front end (which links no
// LibTorch) can show them as defaults: --max-bytes 2 GiB (the largest zoo file is ~240 MB, above
// the image default) and --timeout one hour.
#pragma once

#include "segtune/core/download.h"

namespace segtune {

inline DownloadOptions WeightDownloadOptions() {
  DownloadOptions options;
  options.max_bytes = 2LL << 30;
  options.timeout_seconds = 3600;
  return options;
}

}  // namespace segtune
