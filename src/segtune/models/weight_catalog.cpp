#include "segtune/models/weight_catalog.h"

#include <array>
#include <cstdint>
#include <fstream>

#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/data/download.h"

namespace segtune {
namespace {

const std::vector<std::pair<std::string, std::string>> kMobileNetRemap = {{"features.", "backbone."}};
const std::vector<std::pair<std::string, std::string>> kResNetRemap = {
    {"conv1.", "backbone.conv1."},   {"bn1.", "backbone.bn1."},       {"layer1.", "backbone.layer1."},
    {"layer2.", "backbone.layer2."}, {"layer3.", "backbone.layer3."}, {"layer4.", "backbone.layer4."}};

CatalogEntry Full(std::string name, std::string file, std::string description) {
  CatalogEntry e;
  e.model = name;
  e.name = std::move(name);
  e.file = std::move(file);
  e.description = std::move(description);
  return e;
}

CatalogEntry Backbone(std::string name, std::string file, std::string model, std::string description) {
  CatalogEntry e;
  e.name = std::move(name);
  e.file = std::move(file);
  e.model = std::move(model);
  e.fits = CatalogEntry::Fits::kBackbone;
  e.description = std::move(description);
  const bool mobilenet = e.model.rfind("mobilenet", 0) == 0;
  e.prefix_remap = mobilenet ? kMobileNetRemap : kResNetRemap;
  e.drop_prefixes = {mobilenet ? "classifier." : "fc."};
  return e;
}

// SHA-256 (FIPS 180-4).
class Sha256 {
 public:
  void Update(const uint8_t* data, size_t n) {
    total_ += n;
    while (n > 0) {
      const size_t take = std::min(n, size_t(64) - fill_);
      std::copy(data, data + take, block_.begin() + fill_);
      fill_ += take;
      data += take;
      n -= take;
      if (fill_ == 64) {
        Compress(block_.data());
        fill_ = 0;
      }
    }
  }
  std::string HexDigest() {
    const uint64_t bits = total_ * 8;
    const uint8_t one = 0x80, zero = 0;
    Update(&one, 1);
    while (fill_ != 56) Update(&zero, 1);
    uint8_t length[8];
    for (int i = 0; i < 8; ++i) length[i] = uint8_t(bits >> (56 - 8 * i));
    Update(length, 8);
    static const char* digits = "0123456789abcdef";
    std::string hex;
    for (uint32_t word : h_) {
      for (int shift = 28; shift >= 0; shift -= 4) hex += digits[(word >> shift) & 15];
    }
    return hex;
  }

 private:
  static uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
  void Compress(const uint8_t* p) {
    static const uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 | uint32_t(p[4 * i + 2]) << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 = h + (Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 = (Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    const uint32_t add[8] = {a, b, c, d, e, f, g, h};
    for (int i = 0; i < 8; ++i) h_[i] += add[i];
  }

  std::array<uint32_t, 8> h_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<uint8_t, 64> block_{};
  size_t fill_ = 0;
  uint64_t total_ = 0;
};

}  // namespace

std::string CatalogEntry::Url() const { return "https://download.pytorch.org/models/" + file; }

std::string CatalogEntry::Sha256Prefix() const {
  const std::string stem = std::filesystem::path(file).stem().string();
  return stem.substr(stem.rfind('-') + 1);
}

LoadOptions CatalogEntry::TransferOptions() const {
  LoadOptions options;
  options.reinit_mismatched = true;
  options.prefix_remap = prefix_remap;
  options.drop_prefixes = drop_prefixes;
  if (fits == Fits::kBackbone) options.only_prefixes = {"backbone."};
  return options;
}

// File names are torchvision's published ones (torchvision/models/*.py WeightsEnum URLs), checked
// against public code that downloads them. The two ResNet-101 segmentation files date from 2019
// (torchvision 0.3): if they were written in PyTorch's pre-1.6 legacy format, LoadWeights reports
// that format as unsupported (not verified here: no network).
const std::vector<CatalogEntry>& WeightCatalog() {
  static const std::vector<CatalogEntry> kCatalog = {
      Full("lraspp_mobilenet_v3_large", "lraspp_mobilenet_v3_large-d234d4ea.pth", "LR-ASPP MobileNetV3-Large, COCO subset with the 21 Pascal VOC classes"),
      Full("deeplabv3_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large-fc3c493d.pth", "DeepLabV3 MobileNetV3-Large, COCO subset with the 21 Pascal VOC classes"),
      Full("deeplabv3_resnet50", "deeplabv3_resnet50_coco-cd0a2569.pth", "DeepLabV3 ResNet-50, COCO subset with the 21 Pascal VOC classes"),
      Full("deeplabv3_resnet101", "deeplabv3_resnet101_coco-586e9e4e.pth", "DeepLabV3 ResNet-101, COCO subset with the 21 Pascal VOC classes"),
      Full("fcn_resnet50", "fcn_resnet50_coco-1167a1af.pth", "FCN ResNet-50, COCO subset with the 21 Pascal VOC classes"),
      Full("fcn_resnet101", "fcn_resnet101_coco-7ecb50ca.pth", "FCN ResNet-101, COCO subset with the 21 Pascal VOC classes"),
      Backbone("mobilenet_v3_large_imagenet", "mobilenet_v3_large-8738ca79.pth", "mobilenet_v3_large", "MobileNetV3-Large ImageNet-1k (IMAGENET1K_V1): backbone only"),
      Backbone("mobilenet_v3_large_imagenet_v2", "mobilenet_v3_large-5c1a4163.pth", "mobilenet_v3_large", "MobileNetV3-Large ImageNet-1k (IMAGENET1K_V2): backbone only"),
      Backbone("resnet50_imagenet", "resnet50-0676ba61.pth", "resnet50", "ResNet-50 ImageNet-1k (IMAGENET1K_V1): backbone only"),
      Backbone("resnet101_imagenet", "resnet101-63fe2227.pth", "resnet101", "ResNet-101 ImageNet-1k (IMAGENET1K_V1): backbone only"),
      Full("fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_coco-258fb6c6.pth", "Faster R-CNN ResNet-50 FPN, COCO (91 category ids)"),
      Full("fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth", "Faster R-CNN MobileNetV3-Large FPN, COCO (91 category ids)"),
      Full("fasterrcnn_mobilenet_v3_large_320_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn-907ea3f9.pth", "Faster R-CNN MobileNetV3-Large 320 FPN, COCO (91 category ids)"),
      Full("maskrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth", "Mask R-CNN ResNet-50 FPN, COCO (91 category ids)"),
  };
  return kCatalog;
}

const CatalogEntry& FindCatalogEntry(const std::string& name) {
  std::string names;
  for (const CatalogEntry& e : WeightCatalog()) {
    if (e.name == name || e.file == name) return e;
    names += (names.empty() ? "" : ", ") + e.name;
  }
  throw UsageError("unknown weights '" + name + "'; known: " + names + " (see: segtune weights list)");
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256 sha;
  sha.Update(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return sha.HexDigest();
}

std::string Sha256OfFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open for hashing");
  Sha256 sha;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), std::streamsize(buffer.size()));
    sha.Update(reinterpret_cast<const uint8_t*>(buffer.data()), size_t(in.gcount()));
  }
  if (in.bad()) throw IoError(path, "read failed while hashing");
  return sha.HexDigest();
}

std::filesystem::path DownloadWeights(const CatalogEntry& entry, const std::filesystem::path& dir,
                                      const std::string& mirror, Progress* progress) {
  std::string url = entry.Url();
  if (!mirror.empty()) url = (mirror.back() == '/' ? mirror : mirror + "/") + entry.file;
  const std::filesystem::path destination = dir / entry.file;
  std::filesystem::create_directories(dir);
  const std::vector<DownloadResult> results = DownloadAll({{url, destination}}, DownloadOptions{}, progress);
  const DownloadResult& result = results.at(0);
  if (!result.ok) throw IoError(url + ": download failed: " + result.error);
  const std::string actual = Sha256OfFile(destination);
  const std::string expected = entry.Sha256Prefix();
  if (actual.compare(0, expected.size(), expected) != 0) {
    std::error_code ec;
    std::filesystem::remove(destination, ec);
    throw FormatError(destination, "sha256", "is " + actual + ", expected it to start with " + expected +
                                                 " (as the file name says); the corrupt file was removed, download it again");
  }
  Info(entry.file + ": sha256 " + actual.substr(0, 16) + "... verified" + (result.skipped ? " (already present)" : ""));
  return destination;
}

}  // namespace segtune
