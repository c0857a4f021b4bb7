// The labeling-tool readers of `segtune convert` (data/convert/), one input file each: the first byte
// picks the format (CVAT XML, Label Studio JSON, LabelMe JSON, CreateML JSON, COCO JSON, an
// Ultralytics data.yaml), the rest is the file. What a file reader accepts is then written back in
// its own format, so the writers meet whatever geometry a reader let through (NaN, huge or
// degenerate polygons, masks at odd sizes).
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz_util.h"
#include "segtune/data/convert/annotation_format.h"
#include "segtune/formats/data_yaml.h"

namespace {

const char* const kFormats[] = {"cvat", "labelstudio", "labelme", "createml", "coco"};
constexpr size_t kFileFormats = sizeof(kFormats) / sizeof(kFormats[0]);

// One output folder per fuzzing process, reused (each write replaces the last).
const std::filesystem::path& OutputDir() {
  static const std::filesystem::path dir = [] {
    const std::filesystem::path d = std::filesystem::temp_directory_path() / ("segtune-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  if (size == 0) return 0;
  const size_t pick = data[0] % (kFileFormats + 1);
  const std::string_view text = fuzz::AsText(data + 1, size - 1);
  if (pick == kFileFormats) {
    fuzz::ExpectCleanOutcome([&] { ParseDataYaml(text, "fuzz/data.yaml"); });
    return 0;
  }
  const fuzz::MemFile file(text);
  const AnnotationFormat& format = FindAnnotationFormat(kFormats[pick]);
  fuzz::ExpectCleanOutcome([&] {
    ConversionReport report;
    const LabeledDataset dataset = format.read(file.path(), {}, &report);
    WriteOptions write;
    write.overwrite = true;
    const bool folder = std::string(kFormats[pick]) == "labelme";
    format.write(dataset, OutputDir() / (folder ? "out" : "out.file"), write, &report);
  });
  return 0;
}
