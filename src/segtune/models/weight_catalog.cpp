#include "segtune/models/weight_catalog.h"

#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/download.h"
#include "segtune/core/sha256.h"
#include "segtune/models/transfer_keys.h"

namespace segtune {
namespace {

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
  ImageNetBackboneKeys keys = ImageNetBackboneKeyMap(e.model);
  e.prefix_remap = std::move(keys.prefix_remap);
  e.drop_prefixes = std::move(keys.head_prefixes);
  return e;
}

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

std::filesystem::path DownloadWeights(const CatalogEntry& entry, const std::filesystem::path& dir,
                                      const std::string& mirror, Progress* progress, const DownloadOptions& options) {
  std::string url = entry.Url();
  if (!mirror.empty()) url = (mirror.back() == '/' ? mirror : mirror + "/") + entry.file;
  const std::filesystem::path destination = dir / entry.file;
  std::filesystem::create_directories(dir);
  const std::vector<DownloadResult> results = DownloadAll({{url, destination}}, options, progress);
  const DownloadResult& result = results.at(0);
  if (!result.ok) throw IoError(RedactUrl(url) + ": download failed: " + result.error);
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
