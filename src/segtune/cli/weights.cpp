// `segtune weights list|info|download|convert`: the model-zoo catalog and weight files.
#include <iostream>
#include <memory>

#include "segtune/cli/download_options.h"
#include "segtune/cli/verb.h"
#include "segtune/core/log.h"
#include "segtune/core/progress.h"
#include "segtune/models/weight_download_options.h"
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include "segtune/models/weight_catalog.h"
#include "segtune/models/weights.h"
#endif

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
  std::string command;  // list, info, download or convert.
};

#if SEGTUNE_PLUGIN
int ListCatalog() {
  for (const segtune::CatalogEntry& e : segtune::WeightCatalog()) {
    const bool backbone = e.fits == segtune::CatalogEntry::Fits::kBackbone;
    std::cout << e.name << "\n  file " << e.file << "\n  fits " << (backbone ? "the backbone of " : "") << e.model
              << (backbone ? " models" : " (full model)") << "\n  " << e.description << "\n";
  }
  return 0;
}
#endif

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.require_subcommand(1, 1);
  app.add_subcommand("list", "List the torchvision model-zoo files segtune knows");
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
  return [opts, app = &app] {
    opts->command = app->get_subcommands().at(0)->get_name();
    return segtune::cli::RunInPlugin("weights", *opts);
  };
}

#if SEGTUNE_PLUGIN
int Run(const Options& o) {
  if (o.command == "list") return ListCatalog();
  if (o.command == "info") {
    std::cout << segtune::DescribeWeights(segtune::LoadWeightShapes(o.file));
    return 0;
  }
  if (o.command == "download") {
    const segtune::CatalogEntry& entry = segtune::FindCatalogEntry(o.name);
    segtune::Progress progress("download " + entry.file, 1, "file");
    const auto path = segtune::DownloadWeights(entry, o.dir, o.mirror, &progress, o.download);
    progress.Finish();
    std::cout << path.string() << "\n";
    return 0;
  }
  if (o.command == "convert") {
    segtune::ConvertWeights(o.in, o.out, o.overwrite);
    std::cout << o.out << "\n";
    return 0;
  }
  return 2;
}
#endif

}  // namespace

SEGTUNE_VERB(weights, 60, "List, download, inspect and convert model weights", Setup);
SEGTUNE_PLUGIN_RUN(weights, Options, Run);
