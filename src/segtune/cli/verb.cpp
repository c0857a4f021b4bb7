#include "segtune/cli/verb.h"

#include <algorithm>

namespace segtune::cli {
namespace {
std::vector<VerbInfo>& Registry() {
  static std::vector<VerbInfo> verbs;
  return verbs;
}
GlobalOptions g_globals;
}  // namespace

const GlobalOptions& Globals() { return g_globals; }
GlobalOptions& MutableGlobals() { return g_globals; }

bool RegisterVerb(VerbInfo info) {
  Registry().push_back(std::move(info));
  return true;
}

std::vector<VerbInfo> RegisteredVerbs() {
  std::vector<VerbInfo> verbs = Registry();
  std::sort(verbs.begin(), verbs.end(), [](const VerbInfo& a, const VerbInfo& b) {
    return a.order != b.order ? a.order < b.order : a.name < b.name;
  });
  return verbs;
}

}  // namespace segtune::cli
