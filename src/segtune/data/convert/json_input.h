// JSON input of the labeling-tool formats (Label Studio, LabelMe, Roboflow, CreateML): one parse
// path with the nesting limit and line numbers in errors, and typed field access whose errors name
// the file, the element and what was expected.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace segtune {

// Parses a whole JSON file. Throws FormatError "<file>: line L: not valid JSON (...)" on a syntax
// error, or if it nests deeper than kMaxJsonNesting (formats/nesting_limit.h); IoError if unreadable.
nlohmann::json LoadJsonFile(const std::filesystem::path& file);

// Where a value is in a file, for error messages: "task 3: annotations[0].result[2]".
struct JsonPlace {
  std::filesystem::path file;
  std::string element;
  JsonPlace At(const std::string& child) const;  // element + "." + child (or "[i]" for "[i]").
  [[noreturn]] void Fail(const std::string& what) const;  // Throws FormatError(file, element, what).
};

// Typed access: each throws FormatError at `place` + key naming the expected type when the field is
// missing or of another type.
const nlohmann::json& Member(const nlohmann::json& object, const std::string& key, const JsonPlace& place);
double NumberAt(const nlohmann::json& object, const std::string& key, const JsonPlace& place);
std::string StringAt(const nlohmann::json& object, const std::string& key, const JsonPlace& place);
const nlohmann::json& ArrayAt(const nlohmann::json& object, const std::string& key, const JsonPlace& place);
// An image side in pixels: a whole number 1..1,000,000 (wider than any camera; --max-pixels bounds
// width x height where an image is drawn). Throws FormatError at `place` + key otherwise.
int PixelSizeAt(const nlohmann::json& object, const std::string& key, const JsonPlace& place);
// Requires `value` to be an object / array; returns it.
const nlohmann::json& ExpectObject(const nlohmann::json& value, const JsonPlace& place);
const nlohmann::json& ExpectArray(const nlohmann::json& value, const JsonPlace& place);

}  // namespace segtune
