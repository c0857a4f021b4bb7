// `segtune synth`: generate a synthetic segmentation dataset as a Labelbox export plus JPEGs.
#include <memory>

#include "segtune/cli/verb.h"
#include "segtune/core/dimensions.h"
#include "segtune/core/log.h"
#include "segtune/core/split_text.h"
#include "segtune/data/synth/synth.h"  // Options types only.
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>
#include <sstream>
#endif

namespace {

struct Options {
  segtune::SynthOptions synth;
  std::string classes = "bottle,can,box";
  std::string size = "256x256";
  std::string format = "labelbox-v1";
};

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("--out,--output,-o", opts->synth.out_dir, "Output directory (images/, export.json, synth.json)")->required();
  app.add_option("--num-images,-n,--images", opts->synth.images, "Number of images")->capture_default_str();
  app.add_option("--classes", opts->classes, "Comma-separated classes: bottle, can, box, ball, cup, sign")->capture_default_str();
  app.add_option("--seed", opts->synth.seed, "Random seed (same seed, same files)")->capture_default_str();
  app.add_option("--size", opts->size, "Image size WIDTHxHEIGHT")->capture_default_str();
  app.add_option("--format", opts->format, "Export flavour: labelbox-v1 (JSON array) or labelbox-ndjson (export v2)")
      ->capture_default_str();
  app.add_option("--jpeg-quality", opts->synth.jpeg_quality, "JPEG quality 1..100")->capture_default_str();
  app.add_flag("--overwrite", opts->synth.overwrite,
               "Replace --out if it holds a previous synth output (synth.json); anything else is never replaced");
  app.add_flag("--label-maps", opts->synth.write_label_maps,
               "Also write labels/NAME.png: the exact per-pixel class index (0 = background)");
  app.footer(
      "Objects are drawn with shading, texture, shadows and occlusion over cluttered backgrounds; each polygon is\n"
      "the object's full silhouette and later objects in a row occlude earlier ones. \"Labeled Data\" is a file://\n"
      "URL. Use a different --classes set (e.g. ball,cup,sign) for a pre-training source dataset.\n"
      "Example: segtune synth --out data/target --num-images 200 --classes bottle,can,box --seed 1");
  return [opts] {  // A malformed --size is a usage error before the plugin loads.
    const auto [width, height] = segtune::ParseTwoDimensions(opts->size, "--size", "WIDTHxHEIGHT", 16384);
    opts->synth.width = int(width);  // synth checks its own 32..8192 range.
    opts->synth.height = int(height);
    return segtune::cli::RunInDataPlugin("synth", *opts);
  };
}

#if SEGTUNE_PLUGIN
int Run(const Options& args) {
  Options opts = args;
  opts.synth.classes = segtune::SplitNameList(opts.classes);
  opts.synth.format = segtune::ParseSynthExportFormat(opts.format);
  opts.synth.threads = segtune::cli::Globals().threads;
  const segtune::SynthSummary summary = segtune::GenerateSynthDataset(opts.synth);
  std::string counts;
  for (const auto& [name, n] : summary.objects_per_class) counts += (counts.empty() ? "" : ", ") + name + " " + std::to_string(n);
  std::cout << "wrote " << summary.images << " images with " << summary.objects << " objects (" << counts << ") to "
            << summary.export_path.parent_path().string() << "; export: " << summary.export_path.string() << "\n";
  return 0;
}
#endif

}  // namespace

SEGTUNE_VERB(synth, 5, "Generate a synthetic segmentation dataset as a Labelbox export plus images", Setup);
SEGTUNE_DATA_PLUGIN_RUN(synth, Options, Run);
