// URLs as segtune's downloads see them: which ones may be fetched (http and https only), which hosts a
// credential belongs to, and how a URL is shown in messages (without its credentials).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace segtune {

// True for text that starts with a URL scheme ("http://", "https://", "file://", "ftp://", ...), so
// that such a name is never mistaken for a local path. Only http and https are ever downloaded.
bool IsUrl(const std::string& text);

// "%2F" -> "/": every %XX with two hex digits decoded (a '%' not followed by two is kept as is).
std::string PercentDecode(const std::string& text);

// "" when `url` may be downloaded (a well-formed http:// or https:// URL with a host), else why not:
// "only http:// and https:// URLs are downloaded, not file://".
std::string WhyNotDownloadable(const std::string& url);

// The local path of a file:// URL, percent-decoded ("file:///a%20b/c.png" -> "/a b/c.png"); nullopt
// when `url` is not a file:// URL of this machine (its host empty or "localhost").
std::optional<std::filesystem::path> FileUrlPath(const std::string& url);

// `url` for messages: user name and password removed, every query value replaced by "***" (signed
// URLs carry their tokens there), the fragment dropped. Works on malformed text too.
std::string RedactUrl(const std::string& url);

// True when a credential meant for `hosts` may be sent with a request to `url`. Each entry is
//   "example.com"             https only; the host or any subdomain of it, any port;
//   "example.com:8443"        https only; the host or a subdomain, that port only;
//   "http://127.0.0.1:8080"   that scheme, that host (or subdomain), that port if one is given.
// Host names compare case-insensitively; IP addresses only match exactly.
bool CredentialAllowedFor(const std::string& url, const std::vector<std::string>& hosts);

}  // namespace segtune
