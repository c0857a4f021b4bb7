// UUIDs that are a function of a name, so that a file of ids written twice from the same input is the
// same file (Labelbox MAL imports want a UUID per annotation; a random one would make every rerun a
// new upload).
#pragma once

#include <string>
#include <string_view>

namespace segtune {

// The RFC 9562 name-based UUID with SHA-256 (version 8, as in its Appendix B.2 example): the first 16
// bytes of SHA-256(name) with the version nibble set to 8 and the variant bits to 10, in lowercase
// 8-4-4-4-12 hex form. Callers put their own namespace into `name` ("segtune-mal/<data row>/<n>").
std::string NameBasedUuid(std::string_view name);

}  // namespace segtune
