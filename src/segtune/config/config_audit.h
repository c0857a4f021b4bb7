// Fields that proto/pipeline.proto declares (so a TF OD API config parses) but segtune does not apply
// as TF would. Unknown fields are reported by the parser; this reports the known-but-unhonoured ones,
// so no field of a config is ever silently ignored.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pipeline.pb.h"
#include "segtune/config/pipeline_config.h"

namespace segtune {

// Line (1-based) of the n-th (0-based) occurrence of a dotted field path in the config text; 0 if none.
using FieldLineLookup = std::function<int(const std::string& path, int occurrence)>;

// Warnings for every set field of `proto` that segtune ignores or applies differently from TF, each
// with its dotted path, line and what segtune does instead. `proto` is the config as parsed, before
// a TF detection model is mapped (model.faster_rcnn / model.ssd paths stay as written).
std::vector<ConfigWarning> AuditUnhonouredFields(const segtune::config::TrainEvalPipelineConfig& proto,
                                                 const FieldLineLookup& line_of);

}  // namespace segtune
