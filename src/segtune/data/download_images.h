// `segtune download`: fetches every image of a COCO file that is given by URL and writes a COCO file
// pointing at the local copies.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "segtune/core/download.h"

namespace segtune {

struct DownloadImagesOptions {
  std::filesystem::path input;       // COCO JSON whose file_name or coco_url are URLs.
  std::filesystem::path images_dir;  // Where the files go (created if missing).
  std::filesystem::path output;      // COCO JSON pointing at the local files.
  bool absolute_paths = false;       // file_name absolute instead of relative to output's directory.
  DownloadOptions download;
  // Replace an existing output (a JSON object) and "<output>.failures.json" (a JSON array): a rerun
  // into the same output, to retry failed images, needs it. Never concerns the images directory.
  bool overwrite = false;
};

struct DownloadImagesSummary {
  int images = 0;          // Images in the input.
  int local = 0;           // Images without a URL, kept unchanged.
  int downloaded = 0;      // Fetched in this run.
  int already_present = 0; // Complete from an earlier run, not fetched again.
  int failed = 0;          // Left out of the output and listed in failures_path.
  int annotations_dropped = 0;  // Annotations of the failed images.
  std::filesystem::path failures_path;  // "<output>.failures.json"; written only when failed > 0.
};

// For each image, the URL is file_name if it is a URL, else coco_url if it is one; images with
// neither are kept as they are. The local name is file_name when it is a plain relative path
// (COCO's own layout), else the last segment of the URL path; sanitized and made unique ("_2", ...),
// in image order, so a rerun maps every URL to the same file and resumes. In the output, file_name
// is the local path relative to the output JSON's directory (or absolute), coco_url keeps the URL,
// and missing width/height are read from the downloaded image.
//
// Images that failed (HTTP error, stall, not a readable image) are left out of the output together
// with their annotations, and listed (url, status, error) in "<output>.failures.json"; a stale
// report from an earlier run is removed when nothing failed. Throws FormatError / IoError for an
// unreadable input or an unwritable output, never for a failed URL.
//
// Existing files (core/output_guard.h): the output and the failure report are checked before
// anything is read or fetched, and replaced only with options.overwrite (UsageError otherwise). A
// file already in images_dir under an image's local name is taken as that image (the resume) and is
// never replaced or removed: if it is not a readable image, that image fails and the file stays.
DownloadImagesSummary DownloadImages(const DownloadImagesOptions& options);

// A file name for a URL: its last path segment, percent-decoded, reduced to [A-Za-z0-9._-].
std::string FileNameForUrl(const std::string& url);

}  // namespace segtune
