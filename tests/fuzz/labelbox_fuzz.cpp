// Labelbox exports, every flavour detected from the content: the v1 JSON array (Label.objects), the
// 2018 class -> XY / WKT arrays, and export v2 rows as NDJSON or a JSON array; then the conversion to
// COCO (polygons, boxes, holes through RLEs, y flips).
//
// Mask URLs in the input would be fetched. Every proxy variable points at a closed loopback port so a
// generated http(s)/ftp URL fails at once instead of reaching a network, and no retries are made.
#include <cstdint>
#include <cstdlib>

#include "fuzz_util.h"
#include "segtune/data/labelbox.h"

namespace {

bool NoNetwork() {
  for (const char* name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "ftp_proxy"})
    setenv(name, "http://127.0.0.1:9", 1);
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  return true;
}
const bool kNoNetwork = NoNetwork();

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  (void)kNoNetwork;
  const fuzz::MemFile file(fuzz::AsText(data, size));
  for (const YOrigin y_origin : {YOrigin::kAuto, YOrigin::kBottom}) {
    LabelboxOptions options;
    options.input = file.path();
    options.y_origin = y_origin;
    options.download.parallel = 1;
    options.download.retries = 0;
    options.download.connect_timeout_seconds = 1;
    options.download.stall_seconds = 1;
    LabelboxReport report;
    fuzz::ExpectCleanOutcome([&] { LabelboxToCoco(options, &report); });
  }
  return 0;
}
