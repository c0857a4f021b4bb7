#include "segtune/core/url.h"

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <optional>

namespace segtune {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The scheme before "://", lower-cased; "" when text does not start with one.
std::string SchemeOf(const std::string& text) {
  const size_t sep = text.find("://");
  if (sep == std::string::npos || sep == 0) return "";
  if (!std::isalpha(static_cast<unsigned char>(text[0]))) return "";
  for (size_t i = 1; i < sep; ++i) {
    const char c = text[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return "";
  }
  return Lower(text.substr(0, sep));
}

struct UrlParts {
  std::string scheme, host;
  long port = 0;
};

// Parsed by libcurl itself, so the host we check is the host curl connects to.
std::optional<UrlParts> Parse(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    return std::nullopt;
  auto part = [&](CURLUPart which, unsigned flags) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(handle.get(), which, &value, flags) != CURLUE_OK || !value) return std::nullopt;
    std::string out = value;
    curl_free(value);
    return out;
  };
  UrlParts parts;
  const auto scheme = part(CURLUPART_SCHEME, 0), host = part(CURLUPART_HOST, 0);
  if (!scheme || !host || host->empty()) return std::nullopt;
  parts.scheme = Lower(*scheme);
  parts.host = Lower(*host);
  if (const auto port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT)) parts.port = std::atol(port->c_str());
  return parts;
}

bool IsIpLiteral(const std::string& host) {
  if (!host.empty() && host.front() == '[') return true;  // IPv6.
  for (char c : host)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  return true;
}

bool HostMatches(const std::string& host, const std::string& wanted) {
  if (host == wanted) return true;
  if (IsIpLiteral(wanted) || host.size() <= wanted.size()) return false;
  return host.compare(host.size() - wanted.size(), wanted.size(), wanted) == 0 &&
         host[host.size() - wanted.size() - 1] == '.';
}

// One entry of a credential host list, as documented in url.h.
bool EntryAllows(const UrlParts& url, std::string entry) {
  entry = Lower(entry);
  std::string scheme = "https";
  if (const std::string s = SchemeOf(entry); !s.empty()) {
    scheme = s;
    entry = entry.substr(s.size() + 3);
  }
  while (!entry.empty() && entry.back() == '/') entry.pop_back();
  long port = 0;  // 0: any port.
  const size_t colon = entry.rfind(':');
  if (colon != std::string::npos && entry.find(']', colon) == std::string::npos) {
    port = std::atol(entry.c_str() + colon + 1);
    entry.resize(colon);
    if (port <= 0) return false;
  }
  if (entry.empty()) return false;
  return url.scheme == scheme && HostMatches(url.host, entry) && (port == 0 || url.port == port);
}

}  // namespace

bool IsUrl(const std::string& text) { return !SchemeOf(text).empty(); }

std::string WhyNotDownloadable(const std::string& url) {
  const std::string scheme = SchemeOf(url);
  if (scheme.empty()) return "not a URL (expected http:// or https://)";
  if (scheme != "http" && scheme != "https")
    return "only http:// and https:// URLs are downloaded, not " + scheme + "://";
  const auto parts = Parse(url);
  if (!parts) return "not a well-formed URL (no host, or characters a URL cannot hold)";
  return "";
}

std::optional<std::filesystem::path> FileUrlPath(const std::string& url) {
  if (SchemeOf(url) != "file") return std::nullopt;
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    return std::nullopt;
  char* host = nullptr;
  if (curl_url_get(handle.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
    const std::string name = Lower(host);
    curl_free(host);
    if (!name.empty() && name != "localhost") return std::nullopt;
  }
  char* path = nullptr;
  if (curl_url_get(handle.get(), CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK || !path) return std::nullopt;
  std::filesystem::path out = path;
  curl_free(path);
  return out;
}

std::string RedactUrl(const std::string& url) {
  std::string out = url.substr(0, url.find('#'));
  const size_t start = SchemeOf(out).empty() ? 0 : out.find("://") + 3;
  const size_t authority_end = out.find_first_of("/?", start);
  const size_t at = out.rfind('@', authority_end == std::string::npos ? std::string::npos : authority_end);
  if (at != std::string::npos && at >= start) out.erase(start, at + 1 - start);
  const size_t query = out.find('?');
  if (query == std::string::npos) return out;
  std::string redacted = out.substr(0, query + 1);
  const std::string params = out.substr(query + 1);
  for (size_t pos = 0; pos <= params.size();) {
    size_t end = params.find('&', pos);
    if (end == std::string::npos) end = params.size();
    const std::string param = params.substr(pos, end - pos);
    const size_t eq = param.find('=');
    redacted += (eq == std::string::npos ? param : param.substr(0, eq + 1) + "***");
    if (end < params.size()) redacted += '&';
    pos = end + 1;
  }
  return redacted;
}

bool CredentialAllowedFor(const std::string& url, const std::vector<std::string>& hosts) {
  const auto parts = Parse(url);
  if (!parts) return false;
  for (const auto& entry : hosts)
    if (EntryAllows(*parts, entry)) return true;
  return false;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace segtune
