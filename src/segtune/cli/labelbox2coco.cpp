// `segtune labelbox2coco`: a Labelbox export (any flavour) to COCO JSON.
#include <cstdlib>

#include "segtune/cli/download_options.h"
#include "segtune/cli/verb.h"
#include "segtune/data/labelbox.h"  // Options types only.
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>
#endif

namespace {

struct Options {
  segtune::LabelboxOptions convert;
  std::string y_origin = "auto";
  std::vector<std::string> api_key_hosts;
};

segtune::cli::Runner Setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("input", opts->convert.input, "Labelbox export: JSON array (v1 / 2018) or NDJSON (export v2)")
      ->required()->check(CLI::ExistingFile);
  app.add_option("-o,--output", opts->convert.output, "COCO JSON to write")->required();
  app.add_flag("--overwrite", opts->convert.overwrite,
               "Replace a previous output of this name (a COCO JSON file); other files are never replaced");
  app.add_option("--api-key", opts->convert.api_key, "Labelbox API key for mask URLs (default: $LABELBOX_API_KEY)");
  app.add_option("--api-key-host", opts->api_key_hosts,
                 "Another host that may receive the API key (repeatable; labelbox.com and its subdomains always "
                 "may, over https): 'example.com', 'example.com:8443', or 'http://host:port' to allow plain http")
      ->allow_extra_args(false);
  app.add_option("--y-origin", opts->y_origin, "y axis of the 2018 XY/WKT geometry: top, bottom or auto")
      ->capture_default_str()->check(CLI::IsMember({"top", "bottom", "auto"}));
  app.add_option("--parallel", opts->convert.download.parallel, "Mask downloads in flight at once")
      ->capture_default_str()->check(CLI::PositiveNumber);
  segtune::cli::AddDownloadLimitOptions(&app, &opts->convert.download);
  app.footer(
      "Images keep the Labelbox ids and URLs (run `segtune download` next to fetch them); categories\n"
      "are numbered 1..N in class-name order; masks become RLEs; points and lines are reported, not\n"
      "converted. Exit 1 if some masks could not be fetched (the output is written without them).\n"
      "Mask URLs must be http or https; the API key is sent only to labelbox.com and --api-key-host.");
  return [opts] {
    for (const auto& host : opts->api_key_hosts) opts->convert.api_key_hosts.push_back(host);
    if (opts->convert.api_key.empty())
      if (const char* key = std::getenv("LABELBOX_API_KEY")) opts->convert.api_key = key;
    opts->convert.y_origin = opts->y_origin == "top"      ? segtune::YOrigin::kTop
                             : opts->y_origin == "bottom" ? segtune::YOrigin::kBottom
                                                          : segtune::YOrigin::kAuto;
    return segtune::cli::RunInDataPlugin("labelbox2coco", opts->convert);  // Masks are decoded with OpenCV.
  };
}

#if SEGTUNE_PLUGIN
int Run(const segtune::LabelboxOptions& options) {
  const segtune::LabelboxReport report = segtune::ConvertLabelbox(options);
  std::cout << "wrote " << options.output.string() << "\n";
  return report.mask_failures > 0 ? 1 : 0;
}
#endif

}  // namespace

SEGTUNE_VERB(labelbox2coco, 10, "Convert a Labelbox export (JSON or NDJSON) to COCO JSON", Setup);
SEGTUNE_DATA_PLUGIN_RUN(labelbox2coco, segtune::LabelboxOptions, Run);
