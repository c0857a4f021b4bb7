// The torchvision model-zoo files segtune knows how to use: segmentation models, their ImageNet
// backbones, and the detection models. Each entry says what the file fits (a whole model, or only a
// backbone) and how its keys map onto segtune's model, and `DownloadWeights` fetches and verifies it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "segtune/core/download.h"
#include "segtune/models/load_state.h"
#include "segtune/models/weight_download_options.h"

namespace segtune {

class Progress;

struct CatalogEntry {
  enum class Fits { kFullModel, kBackbone };
  std::string name;         // What users type: "lraspp_mobilenet_v3_large", "resnet50_imagenet" ...
  std::string file;         // "<stem>-<first 8 hex digits of its sha256>.pth", as published.
  std::string model;        // The architecture it fits: "lraspp_mobilenet_v3_large", "resnet50" ...
  Fits fits = Fits::kFullModel;
  std::string description;  // One line: dataset, classes.
  // For backbone-only files: how the classification keys become the segmentation model's and
  // which classification-head keys to drop, as transfer_keys.h's ImageNetBackboneKeyMap(model) says.
  std::vector<std::pair<std::string, std::string>> prefix_remap;
  std::vector<std::string> drop_prefixes;

  std::string Url() const;               // https://download.pytorch.org/models/<file>
  std::string Sha256Prefix() const;      // The hex digits after the last '-' of the file stem.
  // Options for fine-tuning from this file: transfer surgery on (class-specific layers of a
  // different size are re-initialised); backbone files load into "backbone." only.
  LoadOptions TransferOptions() const;
};

// Every known file, segmentation first.
const std::vector<CatalogEntry>& WeightCatalog();
// The entry called `name` (or whose file name is `name`). Throws UsageError listing close names.
const CatalogEntry& FindCatalogEntry(const std::string& name);

// Downloads `entry` into directory `dir` (resuming a partial "<file>.part"), from
// `mirror` + "/" + file when `mirror` is not empty (a local copy of download.pytorch.org/models),
// else from the official URL; then checks that the file's sha256 starts with the prefix in its
// name. Returns the file's path. A file already present is not fetched again but is verified.
// Throws IoError if the download fails, FormatError on a hash mismatch (the bad file is removed).
std::filesystem::path DownloadWeights(const CatalogEntry& entry, const std::filesystem::path& dir,
                                      const std::string& mirror = "", Progress* progress = nullptr,
                                      const DownloadOptions& options = WeightDownloadOptions());

}  // namespace segtune
