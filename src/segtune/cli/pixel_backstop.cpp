#include "segtune/cli/pixel_backstop.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "segtune/core/input_limits.h"

namespace segtune::cli {
namespace {

constexpr const char* kOpenCvVariable = "OPENCV_IO_MAX_IMAGE_PIXELS";
constexpr const char* kReexecMarker = "SEGTUNE_PIXEL_BACKSTOP_REEXEC";

// The --max-pixels value as typed ("--max-pixels N" or "--max-pixels=N"); the default if absent or
// not a positive number (the real option parser reports that later).
long long MaxPixelsArgument(int argc, char** argv) {
  const std::string option = "--max-pixels";
  const char* text = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) break;
    if (option == argv[i] && i + 1 < argc) text = argv[i + 1];
    if (std::strncmp(argv[i], "--max-pixels=", option.size() + 1) == 0) text = argv[i] + option.size() + 1;
  }
  if (text) {
    char* end = nullptr;
    const long long value = std::strtoll(text, &end, 10);
    if (end != text && *end == '\0' && value > 0) return value;
  }
  return kDefaultMaxImagePixels;
}

// The verbs that decode images from their inputs. Re-executing costs a second start-up (loading
// LibTorch, ~0.5 s of CPU), so the other verbs skip it.
bool VerbDecodesImages(int argc, char** argv) {
  static const char* const kVerbs[] = {"train", "eval", "infer", "records", "download", "labelbox2coco",
                                       "validate", "coco2tfrecord", "demo"};
  static const char* const kGlobalsWithValue[] = {"--threads", "--device", "--max-pixels", "--max-record-bytes"};
  for (int i = 1; i < argc; ++i) {
    bool takes_value = false;
    for (const char* g : kGlobalsWithValue) takes_value |= std::strcmp(argv[i], g) == 0;
    if (takes_value) {
      ++i;
      continue;
    }
    if (argv[i][0] == '-') continue;
    for (const char* verb : kVerbs) {
      if (std::strcmp(argv[i], verb) == 0) return true;
    }
    return false;
  }
  return false;
}

}  // namespace

void ApplyOpenCvPixelBackstop(int argc, char** argv) {
  if (std::getenv(kReexecMarker)) {  // This is the re-executed process: never loop.
    ::unsetenv(kReexecMarker);       // (Children, e.g. training workers, check for themselves.)
    return;
  }
  if (!VerbDecodesImages(argc, argv)) return;
  const std::string wanted = std::to_string(MaxPixelsArgument(argc, argv));
  const char* current = std::getenv(kOpenCvVariable);
  if (current && wanted == current) return;
  ::setenv(kOpenCvVariable, wanted.c_str(), 1);
  ::setenv(kReexecMarker, "1", 1);
  ::execv("/proc/self/exe", argv);
  // exec failed (no /proc?): go on with OpenCV's default limit; the header checks still apply.
  ::unsetenv(kReexecMarker);
}

}  // namespace segtune::cli
