// `segtune weights list|info|download|convert`: the model-zoo catalog and weight files.
#include <iostream>
#include <memory>

#include "segtune/cli/download_options.h"
#include "segtune/cli/verb.h"
#include "segtune/core/log.h"
#include "segtune/core/progress.h"
#include "segtune/models/weight_catalog.h"
#include "segtune/models/weights.h"

namespace {

struct Options {
  std::string name;
  std::string file;
  std::string in;
  std::string out;
  std::string dir = ".";
  std::string mirror;
  bool overwrite = false;
  segtune::DownloadOptions download = segtune::WeightDownloadOptions();
};

int ListCatalog() {
  for (const segtune::CatalogEntry& e : segtune::WeightCatalog()) {
    const bool backbone = e.fits == segtune::CatalogEntry::Fits::kBackbone;
    std::cout << e.name << "\n  file " << e.file << "\n  fits " << (backbone ? "the backbone of " : "") << e.model
              << (backbone ? " models" : " (full model)") << "\n  " << e.description << "\n";
  }
  return 0;
}

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.require_subcommand(1, 1);
  CLI::App* list = app.add_subcommand("list", "List the torchvision model-zoo files segtune knows");
  CLI::App* info = app.add_subcommand("info", "Show every tensor of a .pth/.safetensors/checkpoint file");
  info->add_option("file", opts->file, "Weights file")->required()->check(CLI::ExistingFile);
  CLI::App* download = app.add_subcommand("download", "Download a zoo file (resumable) and verify its sha256");
  download->add_option("name", opts->name, "Catalog name or file name (see: segtune weights list)")->required();
  download->add_option("--to", opts->dir, "Directory to download into")->capture_default_str();
  download->add_option("--mirror", opts->mirror, "Base URL serving the same files instead of download.pytorch.org/models");
  segtune::cli::AddDownloadLimitOptions(download, &opts->download);
  CLI::App* convert = app.add_subcommand("convert", "Convert between .pth and .safetensors (by OUT's extension)");
  convert->add_option("in", opts->in, "Input weights file")->required()->check(CLI::ExistingFile);
  convert->add_option("out", opts->out, "Output file: .safetensors, .pth or .pt")->required();
  convert->add_flag("--overwrite", opts->overwrite,
                    "Replace a previous weights file of this name (.pth / .safetensors that loads); other files "
                    "are never replaced");
  return [opts, list, info, download, convert] {
    if (list->parsed()) return ListCatalog();
    if (info->parsed()) {
      std::cout << segtune::DescribeWeights(segtune::LoadWeightShapes(opts->file));
      return 0;
    }
    if (download->parsed()) {
      const segtune::CatalogEntry& entry = segtune::FindCatalogEntry(opts->name);
      segtune::Progress progress("download " + entry.file, 1, "file");
      const auto path = segtune::DownloadWeights(entry, opts->dir, opts->mirror, &progress, opts->download);
      progress.Finish();
      std::cout << path.string() << "\n";
      return 0;
    }
    if (convert->parsed()) {
      segtune::ConvertWeights(opts->in, opts->out, opts->overwrite);
      std::cout << opts->out << "\n";
      return 0;
    }
    return 2;
  };
}

}  // namespace

SEGTUNE_VERB(weights, 60, "List, download, inspect and convert model weights", Setup);
