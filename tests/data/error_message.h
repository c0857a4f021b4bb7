// For tests that assert what an error says: the message of the segtune::Error a call throws.
#pragma once

#include <functional>
#include <string>

#include "segtune/core/error.h"

namespace segtune::testing {

// e.what() of the segtune::Error (or subclass) `f` throws, or "(no error)" when it returns normally.
// Other exceptions propagate (the test fails on them).
inline std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace segtune::testing
