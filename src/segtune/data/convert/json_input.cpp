#include "segtune/data/convert/json_input.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"
#include "segtune/formats/nesting_limit.h"

namespace segtune {
namespace {

const char* TypeName(const nlohmann::json& v) {
  return v.is_null() ? "null" : v.is_boolean() ? "a boolean" : v.is_number() ? "a number" : v.is_string() ? "a string"
         : v.is_array() ? "an array" : "an object";
}

size_t LineOfByte(const std::string& text, size_t byte) {
  byte = std::min(byte, text.size());
  return 1 + size_t(std::count(text.begin(), text.begin() + std::ptrdiff_t(byte), '\n'));
}

}  // namespace

nlohmann::json LoadJsonFile(const std::filesystem::path& file) {
  const std::string text = ReadFile(file);
  CheckJsonNesting(text, file.string());
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw FormatError(file, "line " + std::to_string(LineOfByte(text, e.byte > 0 ? e.byte - 1 : 0)),
                      std::string("not valid JSON (") + e.what() + ")");
  } catch (const nlohmann::json::exception& e) {  // out_of_range for numbers like 1e400.
    throw FormatError(file, "", std::string("not valid JSON (") + e.what() + ")");
  }
}

JsonPlace JsonPlace::At(const std::string& child) const {
  if (element.empty()) return {file, child};
  return {file, element + (child.rfind('[', 0) == 0 ? "" : ".") + child};
}

void JsonPlace::Fail(const std::string& what) const { throw FormatError(file, element, what); }

const nlohmann::json& Member(const nlohmann::json& object, const std::string& key, const JsonPlace& place) {
  ExpectObject(object, place);
  const auto it = object.find(key);
  if (it == object.end()) place.Fail("expected a field \"" + key + "\"");
  return *it;
}

double NumberAt(const nlohmann::json& object, const std::string& key, const JsonPlace& place) {
  const nlohmann::json& v = Member(object, key, place);
  if (!v.is_number()) place.At(key).Fail(std::string("expected a number, got ") + TypeName(v));
  const double d = v.get<double>();
  if (!std::isfinite(d)) place.At(key).Fail("expected a finite number");
  return d;
}

std::string StringAt(const nlohmann::json& object, const std::string& key, const JsonPlace& place) {
  const nlohmann::json& v = Member(object, key, place);
  if (!v.is_string()) place.At(key).Fail(std::string("expected a string, got ") + TypeName(v));
  return v.get<std::string>();
}

const nlohmann::json& ArrayAt(const nlohmann::json& object, const std::string& key, const JsonPlace& place) {
  return ExpectArray(Member(object, key, place), place.At(key));
}

const nlohmann::json& ExpectObject(const nlohmann::json& value, const JsonPlace& place) {
  if (!value.is_object()) place.Fail(std::string("expected an object, got ") + TypeName(value));
  return value;
}

int PixelSizeAt(const nlohmann::json& object, const std::string& key, const JsonPlace& place) {
  const double v = NumberAt(object, key, place);
  if (!(v >= 1 && v <= 1e6 && v == std::floor(v))) place.At(key).Fail("expected a whole number of pixels, 1..1000000");
  return static_cast<int>(v);
}

const nlohmann::json& ExpectArray(const nlohmann::json& value, const JsonPlace& place) {
  if (!value.is_array()) place.Fail(std::string("expected an array, got ") + TypeName(value));
  return value;
}

}  // namespace segtune
