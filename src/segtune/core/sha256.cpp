// libcrypto's SHA-256 uses the CPU's SHA extensions where present (~5x a portable implementation),
// which matters: hashing every image is a large share of coco2tfrecord's time.
#include "segtune/core/sha256.h"

#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <vector>

#include "segtune/core/error.h"

namespace segtune {
namespace {

std::string Hex(const std::array<uint8_t, 32>& digest) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint8_t b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

struct DigestContextFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

std::array<uint8_t, 32> Sha256(std::string_view data) {
  std::array<uint8_t, 32> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 || size != 32) {
    throw Error("SHA-256 failed (libcrypto)");
  }
  return digest;
}

std::string Sha256Hex(std::string_view data) { return Hex(Sha256(data)); }

std::string Sha256OfFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, "cannot open for hashing");
  std::unique_ptr<EVP_MD_CTX, DigestContextFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw Error("SHA-256 failed (libcrypto)");
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), std::streamsize(buffer.size()));
    if (EVP_DigestUpdate(ctx.get(), buffer.data(), size_t(in.gcount())) != 1) throw Error("SHA-256 failed (libcrypto)");
  }
  if (in.bad()) throw IoError(path, "read failed while hashing");
  std::array<uint8_t, 32> digest{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest.data(), &size) != 1 || size != 32) throw Error("SHA-256 failed (libcrypto)");
  return Hex(digest);
}

}  // namespace segtune
