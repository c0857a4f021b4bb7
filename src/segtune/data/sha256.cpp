// libcrypto's SHA-256 uses the CPU's SHA extensions where present (~5x a portable implementation),
// which matters: hashing every image is a large share of coco2tfrecord's time.
#include "segtune/data/sha256.h"

#include <openssl/evp.h>

#include "segtune/core/error.h"

namespace segtune {

std::array<uint8_t, 32> Sha256(std::string_view data) {
  std::array<uint8_t, 32> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 || size != 32) {
    throw Error("SHA-256 failed (libcrypto)");
  }
  return digest;
}

std::string Sha256Hex(std::string_view data) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint8_t b : Sha256(data)) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace segtune
