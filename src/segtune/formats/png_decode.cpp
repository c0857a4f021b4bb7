#include "segtune/formats/png_decode.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "segtune/core/error.h"
#include "segtune/formats/byte_order.h"
#include "segtune/formats/image_header.h"

namespace segtune {
namespace {

constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);

int Channels(int colour_type) {
  switch (colour_type) {
    case 0: case 3: return 1;
    case 4: return 2;
    case 2: return 3;
    case 6: return 4;
    default: return 0;
  }
}

bool ValidDepth(int colour_type, int depth) {
  switch (colour_type) {
    case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2: case 4: case 6: return depth == 8 || depth == 16;
    default: return false;
  }
}

struct Chunk {
  std::string_view type, data;
};

// Walks the chunks after the signature, checking each length and CRC.
class ChunkReader {
 public:
  ChunkReader(std::string_view png, const std::string& source, const std::string& key)
      : png_(png), source_(source), key_(key) {}

  // The next chunk; false after IEND or at the end of the bytes (a missing IEND is tolerated, as
  // libpng does: whether the image data is whole is told by its own end). Throws at a chunk cut
  // short or a critical chunk with a wrong CRC; an ancillary chunk with a wrong CRC is skipped, as
  // libpng skips it.
  bool Next(Chunk* chunk) {
    while (!done_ && at_ < png_.size()) {
      if (png_.size() - at_ < 12) Fail("cut short inside a chunk");
      const uint32_t length = Be32(png_, at_);
      if (length > uint32_t(INT32_MAX) || png_.size() - at_ - 12 < length) Fail("a chunk runs past the end of the file");
      chunk->type = png_.substr(at_ + 4, 4);
      chunk->data = png_.substr(at_ + 8, length);
      const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(png_.data() + at_ + 4), length + 4);
      at_ += 12 + size_t(length);
      if (crc != Be32(png_, at_ - 4)) {
        const bool ancillary = (chunk->type[0] & 0x20) != 0;  // Lower-case first letter.
        if (ancillary) continue;
        Fail("chunk " + std::string(chunk->type) + ": CRC mismatch (corrupt data)");
      }
      done_ = chunk->type == "IEND";
      return true;
    }
    return false;
  }

  [[noreturn]] void Fail(const std::string& what) const {
    throw FormatError(source_, key_, "image does not decode: PNG " + what);
  }

 private:
  std::string_view png_;
  const std::string& source_;
  const std::string& key_;
  size_t at_ = kSignature.size();
  bool done_ = false;
};

// A PLTE chunk's entries as 0xRRGGBB.
std::vector<uint32_t> PaletteColours(std::string_view plte) {
  std::vector<uint32_t> palette;
  for (size_t i = 0; i + 2 < plte.size(); i += 3) {
    palette.push_back(uint32_t(uint8_t(plte[i])) << 16 | uint32_t(uint8_t(plte[i + 1])) << 8 | uint8_t(plte[i + 2]));
  }
  return palette;
}

int Paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

// Reverses the filter of one scanline in place; `previous` is the unfiltered line above (zeros for
// the first). `bpp`: bytes per complete pixel, at least 1.
bool Unfilter(int filter, uint8_t* line, const uint8_t* previous, size_t length, size_t bpp) {
  switch (filter) {
    case 0: return true;
    case 1:
      for (size_t i = bpp; i < length; ++i) line[i] = uint8_t(line[i] + line[i - bpp]);
      return true;
    case 2:
      for (size_t i = 0; i < length; ++i) line[i] = uint8_t(line[i] + previous[i]);
      return true;
    case 3:
      for (size_t i = 0; i < length; ++i) {
        const int left = i >= bpp ? line[i - bpp] : 0;
        line[i] = uint8_t(line[i] + ((left + previous[i]) >> 1));
      }
      return true;
    case 4:
      for (size_t i = 0; i < length; ++i) {
        const int left = i >= bpp ? line[i - bpp] : 0, up_left = i >= bpp ? previous[i - bpp] : 0;
        line[i] = uint8_t(line[i] + Paeth(left, previous[i], up_left));
      }
      return true;
    default: return false;
  }
}

// Inflates the concatenated IDAT data into `out`, which must come out exactly full.
class Inflater {
 public:
  explicit Inflater(const ChunkReader& reader) : reader_(reader) {
    if (inflateInit(&stream_) != Z_OK) reader_.Fail("image data: zlib could not start");
  }
  ~Inflater() { inflateEnd(&stream_); }

  void Feed(std::string_view data, std::vector<uint8_t>* out) {
    if (finished_) return;  // Bytes after the stream's end are ignored, as libpng does.
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream_.avail_in = static_cast<uInt>(data.size());
    while (stream_.avail_in > 0 && !finished_) {
      // With the buffer full, inflate still reads the stream's end and checksum (no output needed);
      // more image data than that is a Z_BUF_ERROR.
      const size_t room = std::min<size_t>(out->size() - written_, UINT_MAX);
      stream_.next_out = out->data() + written_;
      stream_.avail_out = static_cast<uInt>(room);
      const int status = inflate(&stream_, Z_NO_FLUSH);
      written_ += room - stream_.avail_out;
      if (status == Z_STREAM_END) {
        finished_ = true;
      } else if (status == Z_BUF_ERROR && written_ == out->size()) {
        reader_.Fail("image data: more than the header's " + std::to_string(out->size()) + " bytes");
      } else if (status != Z_OK) {
        reader_.Fail(std::string("image data does not inflate (zlib: ") + (stream_.msg ? stream_.msg : "error") + ")");
      }
    }
  }

  void Finish(const std::vector<uint8_t>& out) const {
    if (!finished_ || written_ != out.size()) reader_.Fail("image data cut short (truncated or corrupt data)");
  }

 private:
  const ChunkReader& reader_;
  z_stream stream_{};
  size_t written_ = 0;
  bool finished_ = false;
};

}  // namespace

int PngSamples::channels() const { return Channels(colour_type); }

std::optional<PngSamples> DecodePngSamples(std::string_view png, const std::string& source, const std::string& key) {
  const ImageHeader header = CheckImageHeader(png, source, key);  // Size limit before allocating.
  ChunkReader reader(png, source, key);
  if (header.format != ImageFormat::kPng || png.substr(0, kSignature.size()) != kSignature) {
    reader.Fail("expected, found other bytes");
  }
  Chunk chunk;
  if (!reader.Next(&chunk) || chunk.type != "IHDR" || chunk.data.size() != 13) reader.Fail("IHDR must come first");
  PngSamples image;
  image.width = static_cast<int>(header.width);
  image.height = static_cast<int>(header.height);
  image.bit_depth = uint8_t(chunk.data[8]);
  image.colour_type = uint8_t(chunk.data[9]);
  const int compression = uint8_t(chunk.data[10]), filter_method = uint8_t(chunk.data[11]);
  const int interlace = uint8_t(chunk.data[12]);
  if (!ValidDepth(image.colour_type, image.bit_depth)) {
    reader.Fail("colour type " + std::to_string(image.colour_type) + " with bit depth " +
                std::to_string(image.bit_depth) + " is not valid");
  }
  if (compression != 0 || filter_method != 0 || interlace > 1) reader.Fail("unknown compression, filter or interlace method");
  if (interlace == 1) return std::nullopt;

  const int channels = image.channels();
  const size_t bits_per_pixel = size_t(channels) * size_t(image.bit_depth);
  const size_t line_bytes = (size_t(image.width) * bits_per_pixel + 7) / 8;
  const size_t bpp = std::max<size_t>(1, bits_per_pixel / 8);
  std::vector<uint8_t> data((line_bytes + 1) * size_t(image.height));  // Each line: filter byte + bytes.
  Inflater inflater(reader);
  bool seen_data = false, data_ended = false;
  while (reader.Next(&chunk)) {
    if (chunk.type == "IDAT") {
      if (data_ended) reader.Fail("IDAT chunks must be consecutive");
      inflater.Feed(chunk.data, &data);
      seen_data = true;
    } else {
      data_ended = seen_data;
      if (chunk.type == "PLTE") {
        image.palette = PaletteColours(chunk.data);
      } else if (chunk.type == "tRNS") {
        image.transparency = true;
      } else if (chunk.type == "eXIf") {
        image.exif = true;
      } else if (chunk.type == "IHDR") {
        reader.Fail("a second IHDR");
      }
    }
  }
  if (!seen_data) reader.Fail("no image data (IDAT)");
  inflater.Finish(data);
  if (image.colour_type == 3 && image.palette.empty()) reader.Fail("palette image without a palette (PLTE)");

  image.samples.resize(size_t(image.width) * size_t(image.height) * size_t(channels));
  const size_t samples_per_line = size_t(image.width) * size_t(channels);
  const std::vector<uint8_t> zeros(line_bytes, 0);
  for (int y = 0; y < image.height; ++y) {
    uint8_t* filtered = data.data() + size_t(y) * (line_bytes + 1);  // Filter type, then the bytes.
    uint8_t* line = filtered + 1;
    const uint8_t* previous = y == 0 ? zeros.data() : line - (line_bytes + 1);
    if (!Unfilter(filtered[0], line, previous, line_bytes, bpp)) {
      reader.Fail("row " + std::to_string(y) + ": unknown filter type " + std::to_string(filtered[0]));
    }
    uint16_t* out = image.samples.data() + size_t(y) * samples_per_line;
    if (image.bit_depth == 8) {
      for (size_t i = 0; i < samples_per_line; ++i) out[i] = line[i];
    } else if (image.bit_depth == 16) {
      for (size_t i = 0; i < samples_per_line; ++i) out[i] = uint16_t(line[2 * i] << 8 | line[2 * i + 1]);
    } else {
      const int depth = image.bit_depth, per_byte = 8 / depth, mask = (1 << depth) - 1;
      for (size_t i = 0; i < samples_per_line; ++i) {
        out[i] = uint16_t((line[i / per_byte] >> (8 - depth * (int(i % per_byte) + 1))) & mask);
      }
    }
  }
  if (image.colour_type == 3) {
    for (const uint16_t index : image.samples) {
      if (index >= image.palette.size()) {
        reader.Fail("palette index " + std::to_string(index) + " past the palette's " +
                    std::to_string(image.palette.size()) + " entries");
      }
    }
  }
  return image;
}

std::optional<PngLayout> ReadPngLayout(std::string_view png) {
  if (png.size() < kSignature.size() + 21 || png.substr(0, kSignature.size()) != kSignature ||
      png.substr(12, 4) != "IHDR") {
    return std::nullopt;
  }
  return PngLayout{uint8_t(png[25]), uint8_t(png[24]), png[28] == 1};
}

std::vector<uint32_t> ReadPngPalette(std::string_view png, const std::string& source, const std::string& key) {
  ChunkReader reader(png, source, key);
  if (png.substr(0, kSignature.size()) != kSignature) reader.Fail("expected, found other bytes");
  Chunk chunk;
  while (reader.Next(&chunk) && chunk.type != "IDAT") {
    if (chunk.type == "PLTE") return PaletteColours(chunk.data);
  }
  return {};
}

}  // namespace segtune
