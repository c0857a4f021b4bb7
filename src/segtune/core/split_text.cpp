#include "segtune/core/split_text.h"

namespace segtune {

std::vector<std::string> SplitFields(const std::string& text) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1) {
    fields.push_back(text.substr(start, comma - start));
  }
  fields.push_back(text.substr(start));
  return fields;
}

std::vector<std::string> SplitNameList(const std::string& text) {
  std::vector<std::string> names;
  for (std::string field : SplitFields(text)) {
    field.erase(0, field.find_first_not_of(" \t"));
    field.erase(field.find_last_not_of(" \t") + 1);
    if (!field.empty()) names.push_back(field);
  }
  return names;
}

}  // namespace segtune
