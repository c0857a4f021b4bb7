// HTTP(S) downloads with libcurl: many files in parallel (curl multi), retries with backoff, stall
// detection, resume, and a report of every failure. Nothing is silently dropped.
//
// Bounded: only http and https (also after a redirect), at most max_bytes per file (checked against
// Content-Length before the body and against the bytes received, decompressed, while it streams) and
// at most timeout_seconds per transfer. Credentials go only to the hosts they belong to.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "segtune/core/url.h"

namespace segtune {

class Progress;

// Sized for images and masks; `segtune weights download` raises it for model files.
inline constexpr long long kDefaultMaxDownloadBytes = 256LL << 20;  // 256 MiB.
inline constexpr double kDefaultDownloadTimeoutSeconds = 300;

struct DownloadOptions {
  int parallel = 8;                  // Transfers in flight at once.
  int retries = 3;                   // Extra attempts after the first, with exponential backoff.
  double backoff_seconds = 0.5;      // First retry delay; doubles each time.
  double connect_timeout_seconds = 20;
  double stall_seconds = 30;         // Abort a transfer that receives nothing for this long.
  // A file larger than this fails ("--max-bytes" in messages) and its .part file is removed.
  long long max_bytes = kDefaultMaxDownloadBytes;
  // One attempt that has not finished after this long fails ("--timeout") and is not retried.
  double timeout_seconds = kDefaultDownloadTimeoutSeconds;
  std::vector<std::string> headers;  // Sent with every request, e.g. "User-Agent: ...".
  // Sent only to URLs that CredentialAllowedFor(url, credential_hosts) accepts, and (libcurl's rule)
  // never again after a redirect to another host, port or scheme. E.g. "Authorization: Bearer <key>".
  std::vector<std::string> credential_headers;
  std::vector<std::string> credential_hosts;
  // file:// URLs are refused unless their file lies inside one of these directories (symlinks
  // resolved): `segtune download --allow-file-urls DIR`, for an export that names local copies.
  std::vector<std::filesystem::path> file_url_roots;
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
  std::string error;      // Why it failed ("" when ok); names the limit and option when one was hit.
};

// Downloads every request. A URL that is neither http nor https (nor an allowed file://) fails
// without a connection. A destination that already exists is complete (files are written as
// "<destination>.part" and renamed only when the transfer finished) and is skipped. Partial ".part"
// files are resumed with an HTTP Range request where the server allows it; a .part that went over
// max_bytes is removed. Never throws for a failed URL: look at the results. Results are in request
// order.
std::vector<DownloadResult> DownloadAll(const std::vector<DownloadRequest>& requests,
                                        const DownloadOptions& options, Progress* progress = nullptr);

// Fetches one URL into memory (with the same retries and limits). Throws IoError naming the URL
// (RedactUrl) on failure, and for a URL that is not http or https.
std::string FetchUrl(const std::string& url, const DownloadOptions& options = {});

}  // namespace segtune
