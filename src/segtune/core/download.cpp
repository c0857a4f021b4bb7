#include "segtune/core/download.h"

#include <curl/curl.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "segtune/core/error.h"
#include "segtune/core/log.h"
#include "segtune/core/progress.h"
#include "segtune/core/url.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace segtune {
namespace {

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What to do after one attempt ended.
enum class Verdict { kDone, kRetry, kFail };

// Network errors, stalls, 5xx, 408 and 429 are worth retrying; 4xx and local errors are not.
Verdict Classify(CURLcode code, long status) {
  if (code == CURLE_OK) {
    if (status == 0 || (status >= 200 && status < 300)) return Verdict::kDone;
    if (status >= 500 || status == 429 || status == 408) return Verdict::kRetry;
    return Verdict::kFail;
  }
  switch (code) {
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_FILE_COULDNT_READ_FILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_URL_MALFORMAT:
    case CURLE_REMOTE_FILE_NOT_FOUND:
    case CURLE_OUT_OF_MEMORY:
      return Verdict::kFail;
    default:
      return Verdict::kRetry;
  }
}

double BackoffSeconds(const DownloadOptions& options, int failed_attempts) {
  return options.backoff_seconds * std::pow(2.0, std::max(0, failed_attempts - 1));
}

std::string Seconds(double s) {
  const double rounded = std::round(s * 10) / 10;
  std::string text = std::to_string(rounded);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text;
}

// "268,435,456 bytes (256 MiB)".
std::string Bytes(long long n) {
  std::string text = WithCommas(n) + " bytes";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = double(n);
  int unit = -1;
  while (value >= 1024 && unit < 3) value /= 1024, ++unit;
  if (unit >= 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, value == std::floor(value) ? "%.0f" : "%.1f", value);
    text += std::string(" (") + buf + " " + units[unit] + ")";
  }
  return text;
}

curl_slist* MakeHeaderList(const std::vector<std::string>& headers) {
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  return list;
}

// The request headers, with and without the credential headers; each URL gets the list its host may see.
class HeaderLists {
 public:
  explicit HeaderLists(const DownloadOptions& options) : options_(options) {
    plain_ = MakeHeaderList(options.headers);
    std::vector<std::string> all = options.headers;
    all.insert(all.end(), options.credential_headers.begin(), options.credential_headers.end());
    with_credentials_ = MakeHeaderList(all);
  }
  ~HeaderLists() {
    curl_slist_free_all(plain_);
    curl_slist_free_all(with_credentials_);
  }
  HeaderLists(const HeaderLists&) = delete;
  HeaderLists& operator=(const HeaderLists&) = delete;

  curl_slist* For(const std::string& url) const {
    const bool credentials = !options_.credential_headers.empty() && CredentialAllowedFor(url, options_.credential_hosts);
    return credentials ? with_credentials_ : plain_;
  }

 private:
  const DownloadOptions& options_;
  curl_slist* plain_ = nullptr;
  curl_slist* with_credentials_ = nullptr;
};

fs::path PartPath(const fs::path& destination) {
  fs::path p = destination;
  p += ".part";
  return p;
}

// One attempt's state while it is in flight. The body goes to `file` (a .part) or to `memory`.
struct Transfer {
  size_t index = 0;
  CURL* easy = nullptr;
  FILE* file = nullptr;
  std::string* memory = nullptr;
  fs::path part;
  long resume_from = 0;
  std::string range;
  bool decided = false;    // First body bytes seen: we know whether the server honoured the Range.
  bool discard = false;    // Error status: do not keep the body.
  bool write_failed = false;
  bool stalled = false;
  bool timed_out = false;
  bool too_large = false;  // More than max_bytes arrived (curl's own check covers Content-Length).
  long long size = 0;      // Bytes of the file so far (the resumed part included), or of the error body.
  long long max_bytes = 0;
  double stall_seconds = 0;
  double timeout_seconds = 0;
  Clock::time_point started;
  Clock::time_point last_data;  // When bytes last arrived (or the transfer started).
  curl_off_t last_bytes = -1;
  // Read from the handle when the attempt ends, for messages.
  long status = 0;
  long long content_length = -1;  // Of the last response, from its header.
  long redirects = 0;
  std::string final_url;
  char errbuf[CURL_ERROR_SIZE] = {0};
};

// Aborts an attempt that has run longer than timeout_seconds, or that received nothing for
// stall_seconds. curl's own low-speed check averages over ~5 s, so a transfer that stops after a
// fast start would take that much longer to notice.
int WatchTransfer(void* user, curl_off_t, curl_off_t now_bytes, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  const auto now = Clock::now();
  if (std::chrono::duration<double>(now - t->started).count() > t->timeout_seconds) {
    t->timed_out = true;
    return 1;
  }
  if (now_bytes != t->last_bytes) {
    t->last_bytes = now_bytes;
    t->last_data = now;
    return 0;
  }
  if (std::chrono::duration<double>(now - t->last_data).count() > t->stall_seconds) {
    t->stalled = true;
    return 1;
  }
  return 0;
}

// The first body bytes: an error body is discarded; a resumed .part whose Range the server ignored
// (200 instead of 206) starts over.
bool DecideOnFirstBytes(Transfer* t) {
  t->decided = true;
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 300) {
    t->discard = true;
    t->size = 0;
  } else if (t->resume_from > 0 && status == 200) {
    t->size = 0;
    if (std::fflush(t->file) != 0 || ::ftruncate(fileno(t->file), 0) != 0) return false;
    std::fseek(t->file, 0, SEEK_SET);
  }
  return true;
}

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  if (!t->decided && !DecideOnFirstBytes(t)) return 0;
  // Counted after decompression (CURLOPT_ACCEPT_ENCODING): a small gzip body cannot expand past the
  // limit. Returning less than `bytes` makes curl stop the transfer at once.
  if (t->size + (long long)bytes > t->max_bytes) {
    t->too_large = true;
    return 0;
  }
  t->size += (long long)bytes;
  if (t->discard) return bytes;
  if (t->memory) {
    t->memory->append(data, bytes);
    return bytes;
  }
  if (std::fwrite(data, 1, bytes, t->file) != bytes) {
    t->write_failed = true;
    return 0;
  }
  return bytes;
}

bool IsInside(const fs::path& path, const fs::path& root) {
  const auto [root_end, _] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return root_end == root.end();
}

// "" when `url` may be fetched: http or https, or a file:// URL whose file (symlinks resolved) lies
// inside one of options.file_url_roots. Otherwise why not.
std::string WhyRefused(const std::string& url, const DownloadOptions& options) {
  const std::string why = WhyNotDownloadable(url);
  if (why.empty()) return "";
  const auto path = FileUrlPath(url);
  if (!path) return why;
  if (options.file_url_roots.empty()) return why;
  std::error_code ec;
  const fs::path file = fs::weakly_canonical(fs::absolute(*path), ec);
  std::string roots;
  for (const fs::path& root : options.file_url_roots) {
    const fs::path dir = fs::weakly_canonical(fs::absolute(root), ec);
    if (!ec && !file.empty() && IsInside(file, dir)) return "";
    roots += (roots.empty() ? "" : ", ") + root.string();
  }
  return "file:// URL outside the directories --allow-file-urls names (" + roots + ")";
}

bool IsFileUrl(const std::string& url) { return FileUrlPath(url).has_value(); }

// Remembers the last response's Content-Length for messages: when curl refuses it
// (CURLE_FILESIZE_EXCEEDED), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T is not set yet.
size_t ReadHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  std::string line(data, bytes);
  for (char& c : line) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (line.rfind("http/", 0) == 0) t->content_length = -1;  // A new response (after a redirect).
  static constexpr char kName[] = "content-length:";
  if (line.rfind(kName, 0) == 0) {
    char* end = nullptr;
    const long long value = std::strtoll(line.c_str() + sizeof kName - 1, &end, 10);
    if (end != line.c_str() + sizeof kName - 1 && value >= 0) t->content_length = value;
  }
  return bytes;
}

// Every easy-handle setting: schemes, redirects, limits, timeouts, stall detection, headers, body sink.
void ConfigureEasy(CURL* easy, const std::string& url, const DownloadOptions& options, curl_slist* headers,
                   Transfer* t) {
  t->easy = easy;
  t->max_bytes = options.max_bytes;
  t->stall_seconds = options.stall_seconds;
  t->timeout_seconds = options.timeout_seconds;
  t->started = t->last_data = Clock::now();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  // http and https only (file only for a file:// URL WhyRefused accepted), and for every redirect:
  // a server cannot send us to file:// or ftp://.
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, IsFileUrl(url) ? "file" : "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);
  // Authorization and Cookie headers are dropped when a redirect changes host, port or scheme.
  curl_easy_setopt(easy, CURLOPT_UNRESTRICTED_AUTH, 0L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, long(options.connect_timeout_seconds * 1000));
  // Refuses a body whose Content-Length is over the limit before it starts; WriteBody checks the
  // bytes themselves (no Content-Length, a lying one, compression).
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options.max_bytes));
  // WatchTransfer enforces the timeout; curl's own is a backstop should the callback not run.
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, long(options.timeout_seconds * 1000) + 1000);
  // Stall detection: fewer than 1 byte/s for stall_seconds aborts with CURLE_OPERATION_TIMEDOUT.
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, std::max(1L, long(std::ceil(options.stall_seconds))));
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "segtune/" SEGTUNE_VERSION);
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // Whatever curl can decode.
  if (headers) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, WatchTransfer);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, t);
}

// Reads what the messages need from the handle and settles which limit ended the attempt.
CURLcode Settle(Transfer* t, CURLcode code) {
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
  curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_COUNT, &t->redirects);
  char* final_url = nullptr;
  if (curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &final_url) == CURLE_OK && final_url) t->final_url = final_url;
  const double elapsed = std::chrono::duration<double>(Clock::now() - t->started).count();
  if (code == CURLE_OPERATION_TIMEDOUT && elapsed >= t->timeout_seconds) t->timed_out = true;
  if (t->timed_out || t->too_large) return code == CURLE_OK ? CURLE_ABORTED_BY_CALLBACK : code;
  if (t->stalled) return CURLE_OPERATION_TIMEDOUT;
  return code;
}

// Why an attempt failed, naming the limit and the option that raises it when a limit ended it.
std::string DescribeFailure(const Transfer& t, CURLcode code, const DownloadOptions& options) {
  if (code == CURLE_FILESIZE_EXCEEDED) {
    return "too large: the server announces " +
           (t.content_length >= 0 ? WithCommas(t.content_length) + " bytes" : std::string("a larger file")) +
           ", more than the limit of " + Bytes(options.max_bytes) + " set by --max-bytes; raise --max-bytes to download it";
  }
  if (t.too_large) {
    return "too large: more than the limit of " + Bytes(options.max_bytes) +
           " received and still sending; raise --max-bytes to download it";
  }
  if (t.timed_out) {
    return "timed out: not finished after " + Seconds(options.timeout_seconds) +
           " s, the limit set by --timeout; raise --timeout for a slow server or a large file";
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return "stalled: no data for " + std::to_string(int(std::ceil(options.stall_seconds))) + " s (" +
           std::string(t.errbuf[0] ? t.errbuf : curl_easy_strerror(code)) + ")";
  }
  if (code == CURLE_UNSUPPORTED_PROTOCOL && t.redirects > 0) {
    return "redirected to " + RedactUrl(t.final_url) + ": only http:// and https:// URLs are followed";
  }
  if (code != CURLE_OK) return t.errbuf[0] ? t.errbuf : curl_easy_strerror(code);
  return "HTTP " + std::to_string(t.status);
}

void RemoveFile(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

// Runs DownloadAll's scheduler: a curl multi handle with up to `parallel` transfers, a queue of
// requests (each with the earliest time it may start, for backoff).
class Downloader {
 public:
  Downloader(const std::vector<DownloadRequest>& requests, const DownloadOptions& options, Progress* progress)
      : requests_(requests), options_(options), progress_(progress), results_(requests.size()), headers_(options) {
    EnsureCurlInitialized();
    multi_ = curl_multi_init();
  }
  ~Downloader() { curl_multi_cleanup(multi_); }

  std::vector<DownloadResult> Run() {
    for (size_t i = 0; i < requests_.size(); ++i) {
      results_[i].url = requests_[i].url;
      results_[i].destination = requests_[i].destination;
      if (const std::string why = WhyRefused(requests_[i].url, options_); !why.empty()) {
        results_[i].error = why;  // Checked before anything touches the disk or the network.
        Finished();
      } else if (fs::exists(requests_[i].destination)) {
        results_[i].ok = results_[i].skipped = true;
        Finished();
      } else {
        queue_.push_back({i, Clock::now()});
      }
    }
    while (!queue_.empty() || !active_.empty()) {
      StartReady();
      int running = 0;
      curl_multi_perform(multi_, &running);
      CollectFinished();
      if (queue_.empty() && active_.empty()) break;
      curl_multi_poll(multi_, nullptr, 0, PollTimeoutMs(), nullptr);
    }
    return std::move(results_);
  }

 private:
  struct Pending {
    size_t index;
    Clock::time_point not_before;
  };

  void Finished() {
    if (progress_) progress_->Advance();
  }

  int PollTimeoutMs() const {
    if (queue_.empty() || int(active_.size()) >= std::max(1, options_.parallel)) return 200;
    auto soonest = queue_.front().not_before;
    for (const auto& p : queue_) soonest = std::min(soonest, p.not_before);
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(soonest - Clock::now()).count();
    return int(std::clamp<long long>(wait, 0, 200));
  }

  void StartReady() {
    const auto now = Clock::now();
    for (auto it = queue_.begin(); it != queue_.end() && int(active_.size()) < std::max(1, options_.parallel);) {
      if (it->not_before > now) {
        ++it;
        continue;
      }
      Start(it->index);
      it = queue_.erase(it);
    }
  }

  void Start(size_t index) {
    DownloadResult& result = results_[index];
    ++result.attempts;
    auto t = std::make_unique<Transfer>();
    t->index = index;
    t->part = PartPath(requests_[index].destination);
    std::error_code ec;
    fs::create_directories(t->part.parent_path().empty() ? fs::path(".") : t->part.parent_path(), ec);
    t->file = std::fopen(t->part.c_str(), "ab");
    if (!t->file) {
      result.error = "cannot write " + t->part.string() + ": " + std::strerror(errno);
      Finished();
      return;
    }
    t->resume_from = long(std::ftell(t->file));
    t->size = t->resume_from;
    const std::string& url = requests_[index].url;
    ConfigureEasy(curl_easy_init(), url, options_, headers_.For(url), t.get());
    // A plain Range header rather than CURLOPT_RESUME_FROM: when a server ignores it and answers
    // 200, WriteBody starts the .part over instead of curl failing the transfer.
    t->range = std::to_string(t->resume_from) + "-";
    if (t->resume_from > 0) curl_easy_setopt(t->easy, CURLOPT_RANGE, t->range.c_str());
    curl_multi_add_handle(multi_, t->easy);
    active_.push_back(std::move(t));
  }

  void CollectFinished() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* raw = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &raw);
      auto it = std::find_if(active_.begin(), active_.end(), [raw](const auto& p) { return p.get() == raw; });
      std::unique_ptr<Transfer> t = std::move(*it);
      active_.erase(it);
      Complete(*t, msg->data.result);
    }
  }

  void Complete(Transfer& t, CURLcode code) {
    DownloadResult& result = results_[t.index];
    code = Settle(&t, code);
    const long status = t.status;
    curl_multi_remove_handle(multi_, t.easy);
    curl_easy_cleanup(t.easy);
    const bool closed = std::fclose(t.file) == 0;
    result.http_status = status;
    Verdict verdict = Classify(code, status);
    if (t.too_large || t.timed_out) verdict = Verdict::kFail;  // Another attempt would hit the same limit.
    if (t.write_failed || (!closed && verdict == Verdict::kDone)) {
      verdict = Verdict::kFail;
      code = CURLE_WRITE_ERROR;
      std::snprintf(t.errbuf, sizeof t.errbuf, "cannot write %s: %s", t.part.c_str(), std::strerror(errno));
    }
    if (status == 416 && t.resume_from > 0) {
      // Our .part is at least as long as the file (a finished transfer interrupted before the
      // rename, or the file changed): start over from scratch.
      RemoveFile(t.part);
      verdict = result.attempts <= options_.retries ? Verdict::kRetry : Verdict::kFail;
    }
    if (verdict == Verdict::kDone) {
      std::error_code ec;
      fs::rename(t.part, requests_[t.index].destination, ec);
      if (ec) {
        result.error = "cannot rename " + t.part.string() + ": " + ec.message();
      } else {
        result.ok = true;
        result.error.clear();
      }
      Finished();
      return;
    }
    result.error = DescribeFailure(t, code, options_);
    if (verdict == Verdict::kRetry && result.attempts <= options_.retries) {
      const double delay = BackoffSeconds(options_, result.attempts);
      Debug("download: " + RedactUrl(result.url) + ": " + result.error + "; retry " +
            std::to_string(result.attempts) + " in " + std::to_string(delay) + " s");
      queue_.push_back({t.index, Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                    std::chrono::duration<double>(delay))});
      return;
    }
    // An over-limit .part is of no use to a rerun (it would fail again); an empty one neither. A
    // stalled or timed-out .part stays, bounded by max_bytes, so a rerun resumes it.
    std::error_code ec;
    if (t.too_large || code == CURLE_FILESIZE_EXCEEDED || (fs::exists(t.part, ec) && fs::file_size(t.part, ec) == 0))
      RemoveFile(t.part);
    Finished();
  }

  const std::vector<DownloadRequest>& requests_;
  const DownloadOptions& options_;
  Progress* progress_;
  std::vector<DownloadResult> results_;
  HeaderLists headers_;
  CURLM* multi_ = nullptr;
  std::deque<Pending> queue_;
  std::vector<std::unique_ptr<Transfer>> active_;
};

}  // namespace

std::vector<DownloadResult> DownloadAll(const std::vector<DownloadRequest>& requests,
                                        const DownloadOptions& options, Progress* progress) {
  return Downloader(requests, options, progress).Run();
}

std::string FetchUrl(const std::string& url, const DownloadOptions& options) {
  if (const std::string why = WhyRefused(url, options); !why.empty()) throw IoError(RedactUrl(url) + ": " + why);
  EnsureCurlInitialized();
  const HeaderLists headers(options);
  std::string error;
  int attempt = 1;
  for (;; ++attempt) {
    std::string body;
    Transfer t;
    t.memory = &body;
    ConfigureEasy(curl_easy_init(), url, options, headers.For(url), &t);
    const CURLcode code = Settle(&t, curl_easy_perform(t.easy));
    curl_easy_cleanup(t.easy);
    Verdict verdict = Classify(code, t.status);
    if (t.too_large || t.timed_out) verdict = Verdict::kFail;
    if (verdict == Verdict::kDone) return body;
    error = DescribeFailure(t, code, options);
    if (verdict == Verdict::kFail || attempt > options.retries) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(BackoffSeconds(options, attempt)));
  }
  throw IoError(RedactUrl(url) + ": download failed after " + std::to_string(attempt) + " attempt(s): " + error);
}

}  // namespace segtune
