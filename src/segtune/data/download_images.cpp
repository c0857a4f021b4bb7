#include "segtune/data/download_images.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "segtune/core/url.h"
#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/output_guard.h"
#include "segtune/core/printable.h"
#include "segtune/core/safe_name.h"
#include "segtune/core/progress.h"
#include "segtune/formats/coco.h"
#include "segtune/data/image_decode.h"
#include "segtune/formats/image_header.h"

namespace fs = std::filesystem;

namespace segtune {
namespace {

constexpr int kFailuresShown = 20;  // On stderr; the report file has all of them.

// A plain relative path such as COCO's "000000397133.jpg" or "train/a.jpg", safe to use under DIR:
// every component is one SanitizeFileName leaves alone (no "..", hidden files, control characters).
bool IsSafeRelativePath(const std::string& file_name) {
  if (file_name.empty() || IsUrl(file_name)) return false;
  const fs::path p = fs::path(file_name).lexically_normal();
  if (p.is_absolute() || p.empty()) return false;
  for (const auto& part : p)
    if (part.empty() || SanitizeFileName(part.string(), "") != part.string()) return false;
  return true;
}

std::string ImageUrl(const CocoImage& image) {
  if (IsUrl(image.file_name)) return image.file_name;
  if (IsUrl(image.coco_url)) return image.coco_url;
  return "";
}

// "a.jpg" taken by another URL -> "a_2.jpg", "a_3.jpg", ...
std::string MakeUnique(const std::string& name, std::set<std::string>* taken) {
  if (taken->insert(name).second) return name;
  const fs::path p(name);
  const std::string stem = (p.parent_path() / p.stem()).string(), ext = p.extension().string();
  for (int n = 2;; ++n) {
    const std::string candidate = stem + "_" + std::to_string(n) + ext;
    if (taken->insert(candidate).second) return candidate;
  }
}

struct Plan {
  std::vector<DownloadRequest> requests;         // One per distinct URL.
  std::map<std::string, size_t> request_of_url;  // URL -> index into requests.
};

Plan PlanDownloads(const CocoDataset& dataset, const fs::path& images_dir) {
  Plan plan;
  std::set<std::string> taken;
  for (const CocoImage& image : dataset.images) {
    const std::string url = ImageUrl(image);
    if (url.empty() || plan.request_of_url.count(url)) continue;
    const bool keep = IsSafeRelativePath(image.file_name);
    const std::string wanted = keep ? fs::path(image.file_name).lexically_normal().string() : FileNameForUrl(url);
    if (!keep && !image.file_name.empty() && !IsUrl(image.file_name)) {
      Warn("download: image " + EscapeForTerminal(image.id.text) + ": file_name \"" +
           EscapeForTerminal(image.file_name) + "\" is unsafe as a path under the images directory; saving as " +
           EscapeForTerminal(wanted));
    }
    plan.request_of_url[url] = plan.requests.size();
    plan.requests.push_back({url, images_dir / MakeUnique(wanted, &taken)});
  }
  return plan;
}

std::string LocalName(const fs::path& file, const DownloadImagesOptions& options) {
  const fs::path absolute = fs::absolute(file).lexically_normal();
  if (options.absolute_paths) return absolute.string();
  const fs::path base = fs::absolute(options.output).parent_path().lexically_normal();
  return absolute.lexically_relative(base).string();
}

struct Failure {
  std::string image_id, url, error;
  long status = 0;
  int attempts = 0;
};

void WriteFailures(const std::vector<Failure>& failures, const fs::path& path) {
  nlohmann::json report = nlohmann::json::array();
  for (const auto& f : failures)
    report.push_back({{"image_id", f.image_id}, {"url", f.url}, {"status", f.status}, {"error", f.error},
                      {"attempts", f.attempts}});
  WriteFileAtomic(path, report.dump(2) + "\n");
}


// Checks a file that download placed (or found) in --images-dir against the COCO entry, and fills in an
// unknown width/height. Every file's header is read (size limit, format) so that an image the COCO file
// gets wrong is reported here, not as silently misplaced boxes later. Returns the failure, or "".
std::string CheckDownloadedImage(const DownloadResult& r, CocoImage* image) {
  std::string problem;
  try {
    if (image->width <= 0 || image->height <= 0) {  // Unknown size (Labelbox): decode proves it usable.
      const cv::Mat decoded = DecodeImageFile(r.destination, cv::IMREAD_UNCHANGED);
      image->width = decoded.cols;
      image->height = decoded.rows;
      return "";
    }
    const ImageHeader header = CheckImageHeader(ReadFile(r.destination), r.destination.string(), "header");
    if (header.width == image->width && header.height == image->height) return "";
    problem = "the COCO file says " + std::to_string(image->width) + "x" + std::to_string(image->height) +
              " but " + r.destination.string() + " is " + std::to_string(header.width) + "x" +
              std::to_string(header.height) + " (its boxes and masks would not fit; fix the COCO entry)";
    return r.skipped ? problem : "downloaded, but " + problem + " (kept)";
  } catch (const Error& e) {
    problem = e.what();
  }
  if (r.skipped) {  // Not fetched by this run: it may be the user's file. Never removed.
    return r.destination.string() + " was already in --images-dir and is not a usable image (" + problem +
           "); it is left in place: move it away to download this image";
  }
  std::error_code ec;
  std::filesystem::remove(r.destination, ec);
  return "downloaded, but not a usable image: " + problem + " (removed)";
}

}  // namespace

std::string FileNameForUrl(const std::string& url) {
  std::string path = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  path = path.substr(0, path.find_first_of("?#"));
  const size_t slash = path.find('/');
  path = slash == std::string::npos ? "" : path.substr(slash);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return SanitizeFileName(PercentDecode(path.substr(path.rfind('/') + 1)), "image");
}

DownloadImagesSummary DownloadImages(const DownloadImagesOptions& options) {
  DownloadImagesSummary summary;
  summary.failures_path = options.output.string() + ".failures.json";
  // Both files a run writes or removes, before anything is fetched: a refusal leaves no half-done run.
  CheckOutputFile(options.output, options.overwrite, {"download", "--output", "COCO JSON", {}},
                  [](const fs::path& p) { return FileStartsWith(p, '{'); });
  CheckOutputFile(summary.failures_path, options.overwrite, {"download", "--output", "download failure report", {}},
                  [](const fs::path& p) { return FileStartsWith(p, '['); });
  CocoDataset dataset = LoadCoco(options.input);
  summary.images = int(dataset.images.size());
  const Plan plan = PlanDownloads(dataset, options.images_dir);
  std::error_code ec;
  fs::create_directories(options.images_dir, ec);
  if (ec) throw IoError(options.images_dir, "cannot create the images directory");

  std::vector<DownloadResult> results;
  {
    Progress progress("download", (long long)plan.requests.size(), "img");
    results = DownloadAll(plan.requests, options.download, &progress);
    progress.Finish();
  }

  std::vector<Failure> failures;
  std::set<std::string> failed_ids;
  std::vector<CocoImage> kept;
  std::set<std::string> decoded_bad;  // URLs whose file is not an image (checked once per URL).
  for (CocoImage& image : dataset.images) {
    const std::string url = ImageUrl(image);
    if (url.empty()) {
      ++summary.local;
      kept.push_back(std::move(image));
      continue;
    }
    const DownloadResult& r = results[plan.request_of_url.at(url)];
    std::string error = r.ok ? "" : r.error;
    if (!r.ok && r.attempts == 0 && FileUrlPath(url) && options.download.file_url_roots.empty())
      error += " (pass --allow-file-urls DIR to copy local files from DIR)";
    if (r.ok) error = CheckDownloadedImage(r, &image);
    if (!error.empty()) {
      failures.push_back({image.id.text, url, error, r.http_status, r.attempts});
      failed_ids.insert(image.id.text);
      continue;
    }
    image.coco_url = url;
    image.file_name = LocalName(r.destination, options);
    kept.push_back(std::move(image));
  }
  for (const auto& r : results) {
    if (r.ok && r.skipped) ++summary.already_present;
    else if (r.ok) ++summary.downloaded;
  }
  dataset.images = std::move(kept);
  const size_t before = dataset.annotations.size();
  dataset.annotations.erase(std::remove_if(dataset.annotations.begin(), dataset.annotations.end(),
                                           [&](const CocoAnnotation& a) { return failed_ids.count(a.image_id.text); }),
                            dataset.annotations.end());
  summary.annotations_dropped = int(before - dataset.annotations.size());
  summary.failed = int(failures.size());
  SaveCoco(dataset, options.output);

  if (failures.empty()) {
    fs::remove(summary.failures_path, ec);  // A report from an earlier run no longer applies.
    return summary;
  }
  WriteFailures(failures, summary.failures_path);
  for (size_t i = 0; i < failures.size() && i < kFailuresShown; ++i)
    Warn("download failed: " + RedactUrl(failures[i].url) + ": " + failures[i].error);
  if (failures.size() > kFailuresShown)
    Warn("... and " + WithCommas(static_cast<long long>(failures.size()) - kFailuresShown) + " more");
  return summary;
}

}  // namespace segtune
