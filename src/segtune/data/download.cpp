#include "segtune/data/download.h"

#include <curl/curl.h>

#include <unistd.h>

#include <algorithm>
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

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace segtune {
namespace {

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
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
    case CURLE_FILE_COULDNT_READ_FILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_REMOTE_FILE_NOT_FOUND:
    case CURLE_OUT_OF_MEMORY:
      return Verdict::kFail;
    default:
      return Verdict::kRetry;
  }
}

std::string DescribeFailure(CURLcode code, long status, const char* errbuf, double stall_seconds) {
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return "stalled: no data for " + std::to_string(int(std::ceil(stall_seconds))) + " s (" +
           std::string(errbuf[0] ? errbuf : curl_easy_strerror(code)) + ")";
  }
  if (code != CURLE_OK) return errbuf[0] ? errbuf : curl_easy_strerror(code);
  return "HTTP " + std::to_string(status);
}

double BackoffSeconds(const DownloadOptions& options, int failed_attempts) {
  return options.backoff_seconds * std::pow(2.0, std::max(0, failed_attempts - 1));
}

// Common easy-handle settings: redirects, timeouts, stall detection, headers.
void ConfigureEasy(CURL* easy, const std::string& url, const DownloadOptions& options, curl_slist* headers,
                   char* errbuf) {
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, long(options.connect_timeout_seconds * 1000));
  // Stall detection: fewer than 1 byte/s for stall_seconds aborts with CURLE_OPERATION_TIMEDOUT.
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, std::max(1L, long(std::ceil(options.stall_seconds))));
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "segtune/" SEGTUNE_VERSION);
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // Whatever curl can decode.
  if (headers) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
}

curl_slist* MakeHeaderList(const std::vector<std::string>& headers) {
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  return list;
}

fs::path PartPath(const fs::path& destination) {
  fs::path p = destination;
  p += ".part";
  return p;
}

// One request's transfer state while it is in flight.
struct Transfer {
  size_t index = 0;
  CURL* easy = nullptr;
  FILE* file = nullptr;
  fs::path part;
  long resume_from = 0;
  std::string range;
  bool decided = false;    // First body bytes seen: we know whether the server honoured the Range.
  bool discard = false;    // Error status: do not write the body into the .part file.
  bool write_failed = false;
  bool stalled = false;
  double stall_seconds = 0;
  Clock::time_point last_data;  // When bytes last arrived (or the transfer started).
  curl_off_t last_bytes = -1;
  char errbuf[CURL_ERROR_SIZE] = {0};
};

// Aborts a transfer that received nothing for stall_seconds. curl's own low-speed check averages
// over ~5 s, so a transfer that stops after a fast start would take that much longer to notice.
int AbortIfStalled(void* user, curl_off_t, curl_off_t now_bytes, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  const auto now = Clock::now();
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

size_t WriteToPart(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  if (!t->decided) {
    t->decided = true;
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300) {
      t->discard = true;
    } else if (t->resume_from > 0 && status == 200) {
      // The server ignored our Range and sends the whole file: start the .part over.
      if (std::fflush(t->file) != 0 || ::ftruncate(fileno(t->file), 0) != 0) return 0;
      std::fseek(t->file, 0, SEEK_SET);
    }
  }
  if (t->discard) return bytes;
  if (std::fwrite(data, 1, bytes, t->file) != bytes) {
    t->write_failed = true;
    return 0;
  }
  return bytes;
}

// Runs DownloadAll's scheduler: a curl multi handle with up to `parallel` transfers, a queue of
// requests (each with the earliest time it may start, for backoff).
class Downloader {
 public:
  Downloader(const std::vector<DownloadRequest>& requests, const DownloadOptions& options, Progress* progress)
      : requests_(requests), options_(options), progress_(progress), results_(requests.size()) {
    EnsureCurlInitialized();
    multi_ = curl_multi_init();
    headers_ = MakeHeaderList(options.headers);
  }
  ~Downloader() {
    curl_multi_cleanup(multi_);
    curl_slist_free_all(headers_);
  }

  std::vector<DownloadResult> Run() {
    for (size_t i = 0; i < requests_.size(); ++i) {
      results_[i].url = requests_[i].url;
      results_[i].destination = requests_[i].destination;
      if (fs::exists(requests_[i].destination)) {
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
    t->easy = curl_easy_init();
    ConfigureEasy(t->easy, requests_[index].url, options_, headers_, t->errbuf);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, WriteToPart);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t.get());
    t->stall_seconds = options_.stall_seconds;
    t->last_data = Clock::now();
    curl_easy_setopt(t->easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(t->easy, CURLOPT_XFERINFOFUNCTION, AbortIfStalled);
    curl_easy_setopt(t->easy, CURLOPT_XFERINFODATA, t.get());
    // A plain Range header rather than CURLOPT_RESUME_FROM: when a server ignores it and answers
    // 200, WriteToPart starts the .part over instead of curl failing the transfer.
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
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(multi_, t.easy);
    curl_easy_cleanup(t.easy);
    const bool closed = std::fclose(t.file) == 0;
    result.http_status = status;
    if (t.stalled) code = CURLE_OPERATION_TIMEDOUT;
    Verdict verdict = Classify(code, status);
    if (t.write_failed || (!closed && verdict == Verdict::kDone)) {
      verdict = Verdict::kFail;
      code = CURLE_WRITE_ERROR;
      std::snprintf(t.errbuf, sizeof t.errbuf, "cannot write %s: %s", t.part.c_str(), std::strerror(errno));
    }
    if (status == 416 && t.resume_from > 0) {
      // Our .part is at least as long as the file (a finished transfer interrupted before the
      // rename, or the file changed): start over from scratch.
      std::error_code ec;
      fs::remove(t.part, ec);
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
    result.error = DescribeFailure(code, status, t.errbuf, options_.stall_seconds);
    if (verdict == Verdict::kRetry && result.attempts <= options_.retries) {
      const double delay = BackoffSeconds(options_, result.attempts);
      Debug("download: " + result.url + ": " + result.error + "; retry " + std::to_string(result.attempts) +
            " in " + std::to_string(delay) + " s");
      queue_.push_back({t.index, Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                    std::chrono::duration<double>(delay))});
      return;
    }
    if (status >= 300) {  // An error body was discarded; an empty .part is useless.
      std::error_code ec;
      if (fs::exists(t.part, ec) && fs::file_size(t.part, ec) == 0) fs::remove(t.part, ec);
    }
    Finished();
  }

  const std::vector<DownloadRequest>& requests_;
  const DownloadOptions& options_;
  Progress* progress_;
  std::vector<DownloadResult> results_;
  CURLM* multi_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::deque<Pending> queue_;
  std::vector<std::unique_ptr<Transfer>> active_;
};

size_t AppendToString(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

}  // namespace

std::vector<DownloadResult> DownloadAll(const std::vector<DownloadRequest>& requests,
                                        const DownloadOptions& options, Progress* progress) {
  return Downloader(requests, options, progress).Run();
}

std::string FetchUrl(const std::string& url, const DownloadOptions& options) {
  EnsureCurlInitialized();
  curl_slist* headers = MakeHeaderList(options.headers);
  std::string error;
  int attempt = 1;
  for (;; ++attempt) {
    std::string body;
    char errbuf[CURL_ERROR_SIZE] = {0};
    CURL* easy = curl_easy_init();
    ConfigureEasy(easy, url, options, headers, errbuf);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, AppendToString);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
    Transfer stall_watch;
    stall_watch.stall_seconds = options.stall_seconds;
    stall_watch.last_data = Clock::now();
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, AbortIfStalled);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &stall_watch);
    CURLcode code = curl_easy_perform(easy);
    if (stall_watch.stalled) code = CURLE_OPERATION_TIMEDOUT;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(easy);
    const Verdict verdict = Classify(code, status);
    if (verdict == Verdict::kDone) {
      curl_slist_free_all(headers);
      return body;
    }
    error = DescribeFailure(code, status, errbuf, options.stall_seconds);
    if (verdict == Verdict::kFail || attempt > options.retries) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(BackoffSeconds(options, attempt)));
  }
  curl_slist_free_all(headers);
  throw IoError(url + ": download failed after " + std::to_string(attempt) + " attempt(s): " + error);
}

bool IsUrl(const std::string& text) {
  const std::string head = Lower(text.substr(0, 8));
  return head.rfind("http://", 0) == 0 || head.rfind("https://", 0) == 0 || head.rfind("file://", 0) == 0;
}

}  // namespace segtune
