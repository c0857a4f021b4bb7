#include "segtune/core/url.h"

#include <gtest/gtest.h>

using segtune::CredentialAllowedFor;
using segtune::IsUrl;
using segtune::RedactUrl;
using segtune::WhyNotDownloadable;

TEST(Url, AnySchemeIsAUrlSoItIsNeverTakenForALocalPath) {
  EXPECT_TRUE(IsUrl("http://a/b.png"));
  EXPECT_TRUE(IsUrl("HTTPS://a/b.png"));
  EXPECT_TRUE(IsUrl("file:///etc/passwd"));
  EXPECT_TRUE(IsUrl("ftp://host/x"));
  EXPECT_FALSE(IsUrl("images/a.png"));
  EXPECT_FALSE(IsUrl("/abs/a.png"));
  EXPECT_FALSE(IsUrl("://nothing"));
  EXPECT_FALSE(IsUrl("we ird://x"));
}

TEST(Url, OnlyHttpAndHttpsAreDownloadable) {
  EXPECT_EQ(WhyNotDownloadable("http://127.0.0.1:8080/a.png"), "");
  EXPECT_EQ(WhyNotDownloadable("https://storage.labelbox.com/a.png?x=1"), "");
  EXPECT_EQ(WhyNotDownloadable("file:///etc/passwd"), "only http:// and https:// URLs are downloaded, not file://");
  EXPECT_EQ(WhyNotDownloadable("FTP://host/a.png"), "only http:// and https:// URLs are downloaded, not ftp://");
  EXPECT_NE(WhyNotDownloadable("gopher://host/"), "");
  EXPECT_NE(WhyNotDownloadable("http://"), "");  // No host.
  EXPECT_NE(WhyNotDownloadable("a.png"), "");
}

TEST(Url, RedactRemovesUserInfoQueryValuesAndFragment) {
  EXPECT_EQ(RedactUrl("https://user:secret@host.com:8443/p/a.png?token=abc&size=2#frag"),
            "https://host.com:8443/p/a.png?token=***&size=***");
  EXPECT_EQ(RedactUrl("https://host.com/a.png"), "https://host.com/a.png");
  EXPECT_EQ(RedactUrl("https://host.com/a@b.png"), "https://host.com/a@b.png");  // '@' in the path stays.
  EXPECT_EQ(RedactUrl("https://me@host.com?flag"), "https://host.com?flag");
  EXPECT_EQ(RedactUrl("file:///etc/passwd"), "file:///etc/passwd");
}

TEST(Url, CredentialsGoOnlyToTheirHosts) {
  const std::vector<std::string> labelbox = {"labelbox.com"};
  EXPECT_TRUE(CredentialAllowedFor("https://labelbox.com/x", labelbox));
  EXPECT_TRUE(CredentialAllowedFor("https://api.labelbox.com/masks/1", labelbox));
  EXPECT_TRUE(CredentialAllowedFor("https://API.LabelBox.com:443/masks/1", labelbox));
  EXPECT_FALSE(CredentialAllowedFor("http://api.labelbox.com/masks/1", labelbox));  // Plain http: no.
  EXPECT_FALSE(CredentialAllowedFor("https://evil-labelbox.com/x", labelbox));
  EXPECT_FALSE(CredentialAllowedFor("https://labelbox.com.evil.org/x", labelbox));
  EXPECT_FALSE(CredentialAllowedFor("https://evil.org/labelbox.com", labelbox));
  EXPECT_FALSE(CredentialAllowedFor("https://labelbox.com@evil.org/x", labelbox));  // User info, host evil.org.
  EXPECT_FALSE(CredentialAllowedFor("file:///labelbox.com", labelbox));
  EXPECT_FALSE(CredentialAllowedFor("https://labelbox.com/x", {}));

  const std::vector<std::string> local = {"http://127.0.0.1:8080"};
  EXPECT_TRUE(CredentialAllowedFor("http://127.0.0.1:8080/a", local));
  EXPECT_FALSE(CredentialAllowedFor("http://127.0.0.1:8081/a", local));  // Another port.
  EXPECT_FALSE(CredentialAllowedFor("https://127.0.0.1:8080/a", local));  // Another scheme.
  EXPECT_FALSE(CredentialAllowedFor("http://1.127.0.0.1:8080/a", local));  // IPs match exactly.

  const std::vector<std::string> port = {"example.com:8443"};
  EXPECT_TRUE(CredentialAllowedFor("https://a.example.com:8443/", port));
  EXPECT_FALSE(CredentialAllowedFor("https://example.com/", port));
}
