#include "segtune/cli/startup_environment.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <string>

#include "segtune/core/input_limits.h"

namespace segtune::cli {
namespace {

constexpr const char* kOpenCvVariable = "OPENCV_IO_MAX_IMAGE_PIXELS";
constexpr const char* kTunablesVariable = "GLIBC_TUNABLES";
constexpr const char* kHugePagesTunable = "glibc.malloc.hugetlb=1";
// Large blocks (a 30 MB XML file, a 5 MB JSON text, per-thread buffers) from the heap instead of their
// own mmap, freed memory kept, and the heaps grown 16 MB at a time instead of a few pages: every fresh
// mmap is zeroed page by page again, and small steps cost a system call each (docs/convert.md).
constexpr const char* kHeapReuseTunables = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=16777216";
constexpr const char* kReexecMarker = "SEGTUNE_STARTUP_ENVIRONMENT_REEXEC";

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

// The verb: the first argument that is not an option (or an option's value), "" if none.
std::string VerbOf(int argc, char** argv) {
  static const char* const kGlobalsWithValue[] = {"--threads", "--device", "--max-pixels", "--max-record-bytes"};
  for (int i = 1; i < argc; ++i) {
    bool takes_value = false;
    for (const char* g : kGlobalsWithValue) takes_value |= std::strcmp(argv[i], g) == 0;
    if (takes_value) {
      ++i;
      continue;
    }
    if (argv[i][0] != '-') return argv[i];
  }
  return "";
}

bool IsOneOf(const std::string& verb, std::initializer_list<const char*> verbs) {
  for (const char* v : verbs) {
    if (verb == v) return true;
  }
  return false;
}

// The verbs that decode images from their inputs.
bool DecodesImages(const std::string& verb) {
  return IsOneOf(verb, {"train", "eval", "infer", "records", "download", "labelbox2coco", "validate", "coco2tfrecord",
                        "demo"});
}

// The dataset verbs (the data plugin's): short runs that allocate and free large blocks.
bool ConvertsDatasets(const std::string& verb) {
  return IsOneOf(verb, {"convert", "validate", "labelbox2coco", "coco2tfrecord", "split", "synth", "download", "records"});
}

// The verbs whose memory grows with the dataset or the model.
bool AllocatesMuch(const std::string& verb) {
  return DecodesImages(verb) || IsOneOf(verb, {"convert", "split", "coco-eval", "export", "report", "synth"});
}

// True when the kernel gives transparent huge pages to memory that asks for them (madvise), so that
// glibc asking makes a difference.
bool HugePagesOnRequest() {
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  return std::getline(mode, line) && line.find("[madvise]") != std::string::npos;
}

}  // namespace

void ApplyStartupEnvironment(int argc, char** argv) {
  if (std::getenv(kReexecMarker)) {  // This is the re-executed process: never loop.
    ::unsetenv(kReexecMarker);       // (Children, e.g. training workers, check for themselves.)
    return;
  }
  const std::string verb = VerbOf(argc, argv);
  bool changed = false;
  if (DecodesImages(verb)) {
    const std::string wanted = std::to_string(MaxPixelsArgument(argc, argv));
    const char* current = std::getenv(kOpenCvVariable);
    if (!current || wanted != current) {
      ::setenv(kOpenCvVariable, wanted.c_str(), 1);
      changed = true;
    }
  }
  const char* tunables = std::getenv(kTunablesVariable);
  const auto user_sets = [&](const char* name) { return tunables && std::strstr(tunables, name); };
  std::string value = tunables ? tunables : "";
  const auto add = [&](const char* settings) {
    value += (value.empty() ? "" : ":") + std::string(settings);
    changed = true;
  };
  if (AllocatesMuch(verb) && !user_sets("glibc.malloc.hugetlb") && HugePagesOnRequest()) add(kHugePagesTunable);
  if (ConvertsDatasets(verb) && !user_sets("glibc.malloc.mmap_threshold")) add(kHeapReuseTunables);
  if (changed) ::setenv(kTunablesVariable, value.c_str(), 1);
  if (!changed) return;
  ::setenv(kReexecMarker, "1", 1);
  ::execv("/proc/self/exe", argv);
  // exec failed (no /proc?): go on without them; segtune's own header checks still apply.
  ::unsetenv(kReexecMarker);
}

}  // namespace segtune::cli
