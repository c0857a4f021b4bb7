#include "segtune/data/convert/mask_class_table.h"

#include <algorithm>
#include <cctype>

#include "segtune/core/atomic_file.h"
#include "segtune/core/error.h"

namespace segtune {
namespace {

namespace fs = std::filesystem;

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

int Channel(const std::string& text, const fs::path& file, int line) {
  const std::string t = Trim(text);
  int v = -1;
  if (!t.empty() && t.size() <= 3 && std::all_of(t.begin(), t.end(), ::isdigit)) v = std::stoi(t);
  if (v < 0 || v > 255) throw FormatError(file, "line " + std::to_string(line), "colour value '" + t + "': expected 0..255");
  return v;
}

uint32_t Rgb(const std::string& r, const std::string& g, const std::string& b, const fs::path& file, int line) {
  return uint32_t(Channel(r, file, line)) << 16 | uint32_t(Channel(g, file, line)) << 8 | uint32_t(Channel(b, file, line));
}

std::string Unquote(std::string s) {
  s = Trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// One class from a line's name (and colour); `colours` tables also index by colour.
void Add(MaskClassTable* table, const std::string& name, uint32_t rgb, int line) {
  if (name.empty()) throw FormatError(table->file, "line " + std::to_string(line), "empty class name");
  const int index = static_cast<int>(table->classes.size());
  if (table->colours && !table->index_of_rgb.emplace(rgb, index).second) {
    throw FormatError(table->file, "line " + std::to_string(line),
                      "colour " + std::to_string(rgb >> 16) + "," + std::to_string((rgb >> 8) & 255) + "," +
                          std::to_string(rgb & 255) + " is already class '" + table->classes[table->index_of_rgb[rgb]].name + "'");
  }
  table->classes.push_back({name, MaskClassRoleOf(name), rgb, line});
}

// The field `column` of a row; when it is the last column, the rest of the row (a name holding the
// separator, unquoted).
std::string Field(const std::vector<std::string>& fields, size_t column, size_t columns, char sep) {
  if (column >= fields.size()) return "";
  std::string value = fields[column];
  if (column + 1 == columns) {
    for (size_t k = column + 1; k < fields.size(); ++k) value += sep + fields[k];
  }
  return Unquote(value);
}

}  // namespace

MaskClassRole MaskClassRoleOf(const std::string& name) {
  const std::string n = Lower(Trim(name));
  if (n == "background" || n == "_background_" || n == "__background__") return MaskClassRole::kBackground;
  if (n == "void" || n == "ignore" || n == "unlabeled" || n == "unlabelled") return MaskClassRole::kIgnore;
  return MaskClassRole::kClass;
}

fs::path FindMaskClassTable(const fs::path& dir) {
  std::error_code ec;
  for (const char* name : {"classes.txt", "labelmap.txt", "class_dict.csv"}) {
    if (fs::is_regular_file(dir / name, ec)) return dir / name;
  }
  return {};
}

MaskClassTable LoadMaskClassTable(const fs::path& file) {
  MaskClassTable table;
  table.file = file;
  const std::string kind = file.filename().string();
  table.colours = kind != "classes.txt";
  std::string text = ReadFile(file);
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text = text.substr(3);
  std::vector<std::string> lines = Split(text, '\n');
  while (!lines.empty() && Trim(lines.back()).empty()) lines.pop_back();
  for (size_t i = 0; i < lines.size(); ++i) {
    const int number = static_cast<int>(i + 1);
    const std::string line = Trim(lines[i]);
    if (kind == "classes.txt") {
      Add(&table, line, 0, number);  // Blank lines keep their index, so an empty name is an error.
    } else if (kind == "labelmap.txt") {
      if (line.empty() || line[0] == '#') continue;
      const std::vector<std::string> fields = Split(line, ':');
      const std::vector<std::string> rgb = fields.size() >= 2 ? Split(fields[1], ',') : std::vector<std::string>{};
      if (rgb.size() != 3) throw FormatError(file, "line " + std::to_string(number), "expected 'name:r,g,b:parts:actions'");
      Add(&table, Trim(fields[0]), Rgb(rgb[0], rgb[1], rgb[2], file, number), number);
    } else {
      if (line.empty() || (i == 0 && Lower(line).rfind("name", 0) == 0)) continue;  // The header.
      std::vector<std::string> fields = Split(line, ',');
      if (fields.size() < 4) throw FormatError(file, "line " + std::to_string(number), "expected 'name,r,g,b'");
      const size_t n = fields.size();
      std::string name = fields[0];
      for (size_t k = 1; k + 3 < n; ++k) name += "," + fields[k];  // A quoted name with commas.
      Add(&table, Unquote(name), Rgb(fields[n - 3], fields[n - 2], fields[n - 1], file, number), number);
    }
  }
  if (table.classes.empty()) throw FormatError(file, "", "no classes");
  if (!table.colours && table.classes.size() > 255) {
    throw FormatError(file, "", std::to_string(table.classes.size()) + " classes: 8-bit masks hold 255 (0..254; 255 is ignore)");
  }
  return table;
}

MaskClassTable LoadAde20kObjectInfo(const fs::path& file) {
  MaskClassTable table;
  table.file = file;
  table.classes.push_back({"other", MaskClassRole::kIgnore, 0, 0});
  std::string text = ReadFile(file);
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text = text.substr(3);
  const std::vector<std::string> lines = Split(text, '\n');
  const char sep = !lines.empty() && lines[0].find('\t') != std::string::npos ? '\t' : ',';
  size_t idx = std::string::npos, name = std::string::npos, columns = 0;
  if (!lines.empty()) {
    const std::vector<std::string> header = Split(Trim(lines[0]), sep);
    columns = header.size();
    for (size_t c = 0; c < header.size(); ++c) {
      const std::string h = Lower(Unquote(header[c]));
      if (h == "idx") idx = c;
      if (h == "name") name = c;
    }
  }
  if (idx == std::string::npos || name == std::string::npos) {
    throw FormatError(file, "line 1", "expected a header naming the columns Idx and Name (Idx,Ratio,Train,Val,Name)");
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string line = Trim(lines[i]);
    if (line.empty()) continue;
    const std::string where = "line " + std::to_string(i + 1);
    const std::vector<std::string> fields = Split(line, sep);
    const std::string expected = std::to_string(table.classes.size());
    if (Trim(Field(fields, idx, columns, sep)) != expected) {
      throw FormatError(file, where, "Idx '" + Trim(Field(fields, idx, columns, sep)) + "': expected " + expected +
                        " (rows number the classes 1, 2, 3, ... in order)");
    }
    const std::string class_name = Trim(Field(fields, name, columns, sep));
    if (class_name.empty()) throw FormatError(file, where, "empty class name");
    if (table.classes.size() > 254) throw FormatError(file, where, "more than 254 classes: 8-bit masks hold 1..254");
    table.classes.push_back({class_name, MaskClassRole::kClass, 0, static_cast<int>(i + 1)});
  }
  if (table.classes.size() == 1) throw FormatError(file, "", "no classes");
  return table;
}

}  // namespace segtune
