// Pipeline configs (protobuf text format): segtune's own and TF Object Detection API configs, with
// unknown fields skipped and reported, faster_rcnn/ssd mapped to segtune models, paths resolved.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "segtune/config/pipeline_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  fuzz::ExpectCleanOutcome([&] {
    const PipelineConfig config = ParsePipelineConfig(std::string(fuzz::AsText(data, size)), "/nonexistent/fuzz.config");
    for (const ConfigWarning& warning : config.warnings) warning.ToString(config.path);
    PipelineConfigToText(config.proto);
  });
  return 0;
}
