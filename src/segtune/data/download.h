// HTTP(S) downloads with libcurl: many files in parallel (curl multi), retries with backoff, stall
// detection, resume, and a report of every failure. Nothing is silently dropped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace segtune {

class Progress;

struct DownloadOptions {
  int parallel = 8;                  // Transfers in flight at once.
  int retries = 3;                   // Extra attempts after the first, with exponential backoff.
  double backoff_seconds = 0.5;      // First retry delay; doubles each time.
  double connect_timeout_seconds = 20;
  double stall_seconds = 30;         // Abort a transfer that receives nothing for this long.
  std::vector<std::string> headers;  // e.g. "Authorization: Bearer <key>".
};

struct DownloadRequest {
  std::string url;
  std::filesystem::path destination;
};

struct DownloadResult {
  std::string url;
  std::filesystem::path destination;
  bool ok = false;
  bool skipped = false;   // Already present and complete: not downloaded again.
  long http_status = 0;   // Last HTTP status, 0 if none.
  int attempts = 0;
  std::string error;      // Why it failed ("" when ok).
};

// Downloads every request. A destination that already exists is complete (files are written as
// "<destination>.part" and renamed only when the transfer finished) and is skipped. Partial
// ".part" files are resumed with an HTTP Range request where the server allows it.
// Never throws for a failed URL: look at the results. Results are in request order.
std::vector<DownloadResult> DownloadAll(const std::vector<DownloadRequest>& requests,
                                        const DownloadOptions& options, Progress* progress = nullptr);

// Fetches one URL into memory (with the same retries). Throws IoError naming the URL on failure.
std::string FetchUrl(const std::string& url, const DownloadOptions& options = {});

// True for http://, https:// and file:// URLs.
bool IsUrl(const std::string& text);

}  // namespace segtune
