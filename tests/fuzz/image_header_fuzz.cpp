// Image header sniffing (format from magic bytes, size from the JPEG SOF / PNG IHDR / GIF / BMP
// header, a JPEG's EXIF orientation) and the decodes used for masks and images (segtune's own PNG decoder, OpenCV's for the rest). The decode runs only when the header gives a small
// size: decompression bombs are a size-limit question (issue 18 item 7), not a parser bug, and would
// only make every fuzz run stop at the first large header.
#include <cstdint>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "fuzz_util.h"
#include "segtune/formats/exif_orientation.h"
#include "segtune/formats/image_codec.h"
#include "segtune/data/image_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  const auto bytes = fuzz::AsText(data, size);
  fuzz::ExpectCleanOutcome([&] {
    ImageFormatName(DetectImageFormat(bytes));
    JpegExifOrientation(bytes);
    const auto image_size = ReadImageSize(bytes);
    if (image_size && int64_t(image_size->width) * image_size->height <= (1 << 20)) {
      std::vector<uint8_t> pixels;
      int height = 0, width = 0;
      DecodeGray(bytes, "fuzz input", "image", &pixels, &height, &width);  // Throws FormatError when unreadable.
      // The other flags take other branches of the PNG decoder's conversion to OpenCV's layout.
      DecodeImageBytes(bytes, cv::IMREAD_COLOR, "fuzz input", "image");
    }
  });
  return 0;
}
