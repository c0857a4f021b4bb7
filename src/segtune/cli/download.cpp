// `segtune download`: fetch the images of a COCO file given by URL.
#include "segtune/cli/download_options.h"
#include "segtune/cli/verb.h"
#include "segtune/core/log.h"
#include "segtune/data/download_images.h"  // Options types only.
#if SEGTUNE_PLUGIN  // The work: plugin only (verb.h).
#include <iostream>
#endif

namespace {

struct Options {
  segtune::DownloadImagesOptions convert;
  std::vector<std::string> headers, header_hosts;
};

segtune::cli::Runner Setup(CLI::App& app) {
  auto all = std::make_shared<Options>();
  segtune::DownloadImagesOptions* opts = &all->convert;
  app.add_option("input", opts->input, "COCO JSON whose file_name or coco_url are URLs")->required();
  app.add_option("--images-dir", opts->images_dir, "Directory for the downloaded images")->required();
  app.add_option("-o,--output", opts->output, "COCO JSON pointing at the local files")->required();
  app.add_option("--parallel", opts->download.parallel, "Transfers in flight at once")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--retries", opts->download.retries, "Extra attempts on network errors, 5xx and 429")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--stall-timeout", opts->download.stall_seconds, "Seconds without data before a retry")
      ->capture_default_str()->check(CLI::PositiveNumber);
  segtune::cli::AddDownloadLimitOptions(&app, &opts->download);
  app.add_option("--header", all->headers, "Extra HTTP header, e.g. 'Authorization: Bearer KEY'")
      ->allow_extra_args(false);
  app.add_option("--header-host", all->header_hosts,
                 "Send the --header values only to this host (repeatable): 'example.com' = https to it and its "
                 "subdomains, 'example.com:8443' = that port, 'http://host:port' = plain http too")
      ->allow_extra_args(false);
  app.add_option("--allow-file-urls", opts->download.file_url_roots,
                 "Also copy file:// URLs whose file lies inside DIR (repeatable; e.g. the folder of `segtune synth`)")
      ->check(CLI::ExistingDirectory)
      ->allow_extra_args(false);  // Repeatable, one DIR each: a greedy list would swallow the input.
  app.add_flag("--overwrite", opts->overwrite,
               "Replace a previous output of this name and its .failures.json (needed to rerun into the same "
               "-o); other files are never replaced, nor files in --images-dir");
  app.add_flag("--absolute-paths", opts->absolute_paths,
               "Write absolute file_names (default: relative to the output JSON's directory)");
  app.footer(
      "Images whose file_name or coco_url is a URL are fetched into --images-dir; a rerun skips complete\n"
      "files and resumes partial ones (a file already there is never replaced). Failed images are left\n"
      "out of the output (with their annotations) and listed in <output>.failures.json; the exit code is\n"
      "then 1: rerun with --overwrite to retry them. Only http and https URLs are fetched (file:// only\n"
      "inside --allow-file-urls). Each file is limited by --max-bytes and --timeout. Without\n"
      "--header-host, --header values go to every host the COCO file names.");
  return [all, opts] {
    (all->header_hosts.empty() ? opts->download.headers : opts->download.credential_headers) = all->headers;
    opts->download.credential_hosts = all->header_hosts;
    return segtune::cli::RunInDataPlugin("download", *opts);  // Each image is decoded (OpenCV) to check it.
  };
}

#if SEGTUNE_PLUGIN
int Run(const segtune::DownloadImagesOptions& opts) {
  const segtune::DownloadImagesSummary s = segtune::DownloadImages(opts);
  using segtune::WithCommas;
  segtune::Info("download: " + WithCommas(s.images) + " images: " + WithCommas(s.downloaded) + " downloaded, " +
                WithCommas(s.already_present) + " already present, " + WithCommas(s.local) +
                " without URL (kept), " + WithCommas(s.failed) + " failed");
  if (s.failed > 0) {
    segtune::Warn(WithCommas(s.failed) + " images (" + WithCommas(s.annotations_dropped) +
                  " annotations) left out of " + opts.output.string() + "; see " + s.failures_path.string() +
                  "; rerun with --overwrite to retry them");
  }
  std::cout << "wrote " << opts.output.string() << "\n";
  return s.failed > 0 ? 1 : 0;
}
#endif

}  // namespace

SEGTUNE_VERB(download, 11, "Download the images of a COCO file listed by URL", Setup);
SEGTUNE_DATA_PLUGIN_RUN(download, segtune::DownloadImagesOptions, Run);
