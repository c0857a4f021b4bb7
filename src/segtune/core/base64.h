// Base64 (RFC 4648, standard alphabet, '=' padding): images inside JSON (LabelMe imageData, the
// report's gallery thumbnails as data: URIs).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace segtune {

std::string Base64Encode(std::string_view bytes);
// Decodes; ASCII whitespace is skipped, padding is optional. nullopt on any other character or a
// length that cannot be base64 (the caller names the file and field in its error).
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace segtune
