#include "segtune/data/convert/annotation_format.h"

#include "segtune/core/error.h"
#include "segtune/data/convert/formats_list.h"

namespace segtune {
namespace {

std::string NamesOf(bool readable) {
  std::string names;
  for (const auto& f : AnnotationFormatNames()) {
    if (readable && !f.readable) continue;
    names += (names.empty() ? "" : ", ") + f.name;
  }
  return names;
}

}  // namespace

const std::vector<AnnotationFormat>& AnnotationFormats() {
  static const std::vector<AnnotationFormat> formats = {
      CocoAnnotationFormat(),
      LabelStudioAnnotationFormat(),
      LabelMeAnnotationFormat(),
      RoboflowAnnotationFormat(),
      CreateMlAnnotationFormat(),
      CocoResultsAnnotationFormat(),
      TfrecordAnnotationFormat(),
      LabelboxMalAnnotationFormat(),
      LabelboxAnnotationFormat(),
      YoloAnnotationFormat(),
      MasksAnnotationFormat(),
      CvatAnnotationFormat(),
      VocAnnotationFormat(),
  };
  return formats;
}

const AnnotationFormat& FindAnnotationFormat(const std::string& name) {
  for (const auto& f : AnnotationFormats()) {
    if (f.name == name) return f;
  }
  throw UsageError("unknown annotation format '" + name + "' (expected one of: " + NamesOf(false) + ")");
}

const AnnotationFormat& DetectAnnotationFormat(const std::filesystem::path& input) {
  const AnnotationFormat* best = nullptr;
  const AnnotationFormat* tie = nullptr;
  int best_score = 0;
  for (const auto& f : AnnotationFormats()) {
    if (!f.read || !f.detect) continue;
    const int score = f.detect(input);
    if (score > best_score) {
      best = &f;
      best_score = score;
      tie = nullptr;
    } else if (score > 0 && score == best_score) {
      tie = &f;
    }
  }
  if (best == nullptr) {
    throw UsageError("cannot tell the annotation format of " + input.string() +
                     "; pass --from with one of: " + NamesOf(true));
  }
  if (tie != nullptr) {
    throw UsageError(input.string() + " could be " + best->name + " or " + tie->name + "; pass --from to choose");
  }
  return *best;
}

}  // namespace segtune
