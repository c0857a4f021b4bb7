// "Did you mean ...?" for mistyped verbs and options.
#pragma once

#include <string>
#include <vector>

namespace segtune::cli {

// Returns the candidate closest to `word` by edit distance if it is close enough to be a plausible
// typo (distance <= max(2, len/3)), else "".
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace segtune::cli
