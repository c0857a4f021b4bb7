// Base64 (RFC 4648, standard alphabet with '=' padding), for images embedded in JSON (LabelMe
// imageData).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace segtune {

std::string Base64Encode(std::string_view bytes);
// nullopt on a character outside the alphabet or a bad length; ASCII whitespace is skipped
// (some writers wrap lines).
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace segtune
