// COCO run-length encodings in both forms a file can hold them: pycocotools' compressed counts string
// (first input byte even) and an uncompressed "counts" number list inside a COCO annotation (odd),
// then everything evaluation does with the result (decode, area, box, IoU, merge, re-encode).
// Bytes 1 and 2 give the mask size (1..64 each) so a decode stays small.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "segtune/formats/coco.h"
#include "segtune/formats/rle.h"

namespace {

using segtune::Rle;

Rle FromCocoCounts(const std::string& counts_text, uint32_t h, uint32_t w) {
  const std::string size = "[" + std::to_string(h) + "," + std::to_string(w) + "]";
  const std::string json =
      "{\"images\":[{\"id\":1,\"width\":" + std::to_string(w) + ",\"height\":" + std::to_string(h) +
      ",\"file_name\":\"a.png\"}],\"categories\":[{\"id\":1,\"name\":\"c\"}],\"annotations\":[{\"id\":1,"
      "\"image_id\":1,\"category_id\":1,\"iscrowd\":1,\"area\":1,\"bbox\":[0,0,1,1],\"segmentation\":{\"size\":" +
      size + ",\"counts\":[" + counts_text + "]}}]}";
  const segtune::CocoDataset dataset = segtune::ParseCoco(json, "fuzz.json");
  if (dataset.annotations.size() != 1 || !dataset.annotations[0].segmentation.rle) std::abort();
  return *dataset.annotations[0].segmentation.rle;
}

void UseRle(const Rle& rle) {
  std::vector<uint8_t> mask(size_t(rle.h) * rle.w);
  segtune::RleDecode(rle, mask.data());
  segtune::RleArea(rle);
  segtune::RleToBbox(rle);
  segtune::RleIou({rle}, {rle}, {true});
  segtune::RleMerge({rle, rle}, false);
  segtune::RleMerge({rle, rle}, true);
  // The writer's string must read back as the same runs, or a rewritten COCO file changes masks.
  if (!(segtune::RleFromString(segtune::RleToString(rle), rle.h, rle.w) == rle)) std::abort();
  if (!(segtune::RleEncode(mask.data(), rle.h, rle.w).counts.size() <= rle.counts.size())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const bool string_form = data[0] % 2 == 0;
  const uint32_t h = 1 + data[1] % 64, w = 1 + data[2] % 64;
  const std::string rest(segtune::fuzz::AsText(data + 3, size - 3));
  segtune::fuzz::ExpectCleanOutcome([&] {
    UseRle(string_form ? segtune::RleFromString(rest, h, w) : FromCocoCounts(rest, h, w));
  });
  return 0;
}
