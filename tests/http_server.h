// A tiny threaded HTTP/1.1 server on 127.0.0.1 for tests (downloads, mask URLs, weights).
//
//   segtune::testing::HttpServer server;                // Ephemeral port, starts serving at once.
//   HttpRoute png; png.body = png_bytes; server.SetRoute("/a.png", png);
//   HttpRoute slow; slow.body = big; slow.stall_after_bytes = 100;  // Sends 100 bytes then hangs.
//   server.SetRoute("/slow.bin", slow);
//   FetchUrl(server.Url("/a.png"));
//   EXPECT_EQ(server.Hits("/a.png"), 1);
//   EXPECT_EQ(server.Requests("/a.png")[0].Header("authorization"), "Bearer k");  // Headers received.
//   HttpRoute endless; endless.endless = true;             // Body bytes until the client hangs up.
//   HttpRoute liar; liar.claimed_length = 1000000000000;   // Content-Length: 10^12 (then the body).
//   server.SetRoute("/r", Redirect("file:///etc/passwd")); // 302 to any Location.
//
// Each connection serves one request and closes ("Connection: close"). Unknown paths answer 404.
// Routes match the request target exactly first, then its path without the query string. GET with a
// "Range: bytes=A-" or "bytes=A-B" header answers 206 with Content-Range when the route allows
// ranges and the status is 200 (416 if A is past the end). The destructor unblocks stalled and
// delayed responses, closes every socket and joins every thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace segtune::testing {

struct HttpRoute {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Extra response headers.
  double delay_seconds = 0;    // Wait this long before sending anything.
  long stall_after_bytes = -1; // >= 0: stop sending at this body offset and hang until shutdown.
  int stall_first_n = -1;      // With stall_after_bytes: stall only the first n requests (-1: all).
  int fail_first_n = 0;        // The first n requests answer fail_status instead (retry tests).
  int fail_status = 503;
  bool ranges = true;          // Honour Range requests.
  bool send_content_length = true;
  long long claimed_length = -1;  // >= 0: send this Content-Length instead of the body's.
  // Endless body: `body` (or 64 KiB of 'x' when empty) sent again and again, every
  // endless_interval_seconds (0: as fast as the client reads), until the client hangs up or the
  // server stops. No Content-Length unless claimed_length says one.
  bool endless = false;
  double endless_interval_seconds = 0;
};
using Route = HttpRoute;

// A redirect (302 by default) to `location`, which may name another scheme, host or port.
inline HttpRoute Redirect(const std::string& location, int status = 302) {
  HttpRoute route;
  route.status = status;
  route.ranges = false;
  route.headers = {{"Location", location}};
  return route;
}

struct HttpRequest {
  std::string method;
  std::string target;  // As sent: "/path?query".
  std::map<std::string, std::string> headers;  // Names lower-cased.
  // The header's value, or "" when absent. `name` is matched case-insensitively.
  std::string Header(std::string name) const {
    for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpServer {
 public:
  HttpServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd_ < 0) throw std::runtime_error("HttpServer: socket() failed");
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error("HttpServer: cannot listen on 127.0.0.1");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~HttpServer() { Stop(); }
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Unblocks every pending response and joins all threads. Idempotent.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    wake_.notify_all();
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (accept_thread_.joinable()) accept_thread_.join();
    ::close(listen_fd_);
    std::vector<std::thread> workers;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
  }

  int port() const { return port_; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // Adds or replaces a route (thread-safe; takes effect for the next request).
  void SetRoute(const std::string& path, HttpRoute route) {
    std::lock_guard<std::mutex> lock(mutex_);
    routes_[path] = std::move(route);
  }

  // Requests received for `path` (exact target or path without query), including 404s.
  int Hits(const std::string& path) const { return int(Requests(path).size()); }
  std::vector<HttpRequest> Requests(const std::string& path) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<HttpRequest> out;
    for (const auto& r : requests_)
      if (r.target == path || PathOf(r.target) == path) out.push_back(r);
    return out;
  }
  int TotalHits() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return int(requests_.size());
  }

 private:
  static std::string PathOf(const std::string& target) { return target.substr(0, target.find('?')); }

  void AcceptLoop() {
    for (;;) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      std::lock_guard<std::mutex> lock(mutex_);
      if (fd < 0 || stopping_) {
        if (fd >= 0) ::close(fd);
        if (stopping_) return;
        continue;
      }
      open_fds_.insert(fd);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  // Reads until the blank line ending the headers (requests here carry no body we need).
  static bool ReadHead(int fd, std::string* head) {
    char buf[4096];
    while (head->find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      head->append(buf, size_t(n));
      if (head->size() > (1 << 20)) return false;
    }
    return true;
  }

  static HttpRequest ParseHead(const std::string& head) {
    HttpRequest req;
    size_t line_end = head.find("\r\n");
    const std::string first = head.substr(0, line_end);
    const size_t s1 = first.find(' '), s2 = first.find(' ', s1 + 1);
    req.method = first.substr(0, s1);
    req.target = first.substr(s1 + 1, s2 - s1 - 1);
    for (size_t pos = line_end + 2; pos < head.size();) {
      const size_t end = head.find("\r\n", pos);
      if (end == std::string::npos || end == pos) break;
      const std::string line = head.substr(pos, end - pos);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
        size_t v = colon + 1;
        while (v < line.size() && line[v] == ' ') ++v;
        req.headers[name] = line.substr(v);
      }
      pos = end + 2;
    }
    return req;
  }

  // Returns false when the server is stopping.
  bool SleepFor(double seconds) {
    std::unique_lock<std::mutex> lock(mutex_);
    return !wake_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return stopping_; });
  }
  void HangUntilStop() {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [this] { return stopping_; });
  }

  static bool SendAll(int fd, const char* data, size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      data += n;
      size -= size_t(n);
    }
    return true;
  }

  static std::string Reason(int status) {
    switch (status) {
      case 200: return "OK";
      case 206: return "Partial Content";
      case 301: return "Moved Permanently";
      case 302: return "Found";
      case 307: return "Temporary Redirect";
      case 404: return "Not Found";
      case 416: return "Range Not Satisfiable";
      case 429: return "Too Many Requests";
      case 500: return "Internal Server Error";
      case 503: return "Service Unavailable";
      default: return "Status";
    }
  }

  // Finds the route and counts the hit; returns the route and this request's 1-based number.
  std::pair<HttpRoute, int> Lookup(const HttpRequest& req, bool* found) {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(req);
    auto it = routes_.find(req.target);
    if (it == routes_.end()) it = routes_.find(PathOf(req.target));
    *found = it != routes_.end();
    if (!*found) return {HttpRoute{}, 0};
    const int n = ++served_[it->first];
    return {it->second, n};
  }

  void Serve(int fd) {
    std::string head;
    if (ReadHead(fd, &head)) Respond(fd, ParseHead(head));
    std::lock_guard<std::mutex> lock(mutex_);
    open_fds_.erase(fd);
    ::close(fd);
  }

  void Respond(int fd, const HttpRequest& req) {
    bool found = false;
    auto [route, nth] = Lookup(req, &found);
    if (!found) {
      route.status = 404;
      route.body = "not found: " + req.target;
    } else if (nth <= route.fail_first_n) {
      route.status = route.fail_status;
      route.body = "failing on purpose (" + std::to_string(nth) + ")";
      route.stall_after_bytes = -1;
    }
    if (route.delay_seconds > 0 && !SleepFor(route.delay_seconds)) return;

    int status = route.status;
    size_t begin = 0, end = route.body.size();  // Body slice [begin, end).
    std::string extra;
    const std::string range = req.Header("range");
    if (status == 200 && route.ranges && range.rfind("bytes=", 0) == 0) {
      const std::string spec = range.substr(6);
      const size_t dash = spec.find('-');
      const size_t first = std::stoul(spec.substr(0, dash));
      size_t last = route.body.empty() ? 0 : route.body.size() - 1;
      if (dash + 1 < spec.size()) last = std::min(last, size_t(std::stoul(spec.substr(dash + 1))));
      if (first >= route.body.size()) {
        status = 416;
        begin = end = 0;
        extra = "Content-Range: bytes */" + std::to_string(route.body.size()) + "\r\n";
      } else {
        status = 206;
        begin = first;
        end = last + 1;
        extra = "Content-Range: bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                std::to_string(route.body.size()) + "\r\n";
      }
    }
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) + "\r\n";
    if (route.claimed_length >= 0) {
      out += "Content-Length: " + std::to_string(route.claimed_length) + "\r\n";
    } else if (route.send_content_length && !route.endless) {
      out += "Content-Length: " + std::to_string(end - begin) + "\r\n";
    }
    if (route.ranges) out += "Accept-Ranges: bytes\r\n";
    for (const auto& [k, v] : route.headers) out += k + ": " + v + "\r\n";
    out += extra + "Connection: close\r\n\r\n";
    if (!SendAll(fd, out.data(), out.size())) return;
    if (req.method == "HEAD") return;
    if (route.endless) return SendForever(fd, route);

    const bool stalls = route.stall_after_bytes >= 0 &&
                        (route.stall_first_n < 0 || nth <= route.stall_first_n);
    size_t stop = end;
    if (stalls) stop = std::clamp(size_t(route.stall_after_bytes), begin, end);
    if (!SendAll(fd, route.body.data() + begin, stop - begin)) return;
    if (stalls && stop < end) HangUntilStop();
  }

  void SendForever(int fd, const HttpRoute& route) {
    const std::string chunk = route.body.empty() ? std::string(64 << 10, 'x') : route.body;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
      }
      if (!SendAll(fd, chunk.data(), chunk.size())) return;
      if (route.endless_interval_seconds > 0 && !SleepFor(route.endless_interval_seconds)) return;
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::set<int> open_fds_;
  std::vector<std::thread> workers_;
  std::map<std::string, HttpRoute> routes_;
  std::map<std::string, int> served_;
  std::vector<HttpRequest> requests_;
};

}  // namespace segtune::testing
