#include "segtune/formats/wkt.h"

#include <cctype>
#include <cstdlib>

#include "segtune/core/error.h"

namespace segtune {
namespace {

// A recursive-descent reader over the WKT text.
class WktReader {
 public:
  WktReader(const std::string& text, const std::string& where) : text_(text), where_(where) {}

  std::vector<WktPolygon> Parse() {
    const std::string tag = Word();
    std::vector<WktPolygon> out;
    if (tag == "POLYGON") {
      if (!Empty()) out.push_back(Polygon());
    } else if (tag == "MULTIPOLYGON") {
      if (!Empty()) {
        Expect('(');
        do out.push_back(Polygon());
        while (Accept(','));
        Expect(')');
      }
    } else {
      Fail("expected POLYGON or MULTIPOLYGON, found \"" + tag + "\"");
    }
    SkipSpace();
    if (pos_ != text_.size()) Fail("unexpected text after the geometry");
    return out;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw FormatError(where_ + ": WKT at character " + std::to_string(pos_ + 1) + ": " + what);
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  std::string Word() {
    SkipSpace();
    std::string w;
    while (pos_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[pos_])))
      w += char(std::toupper(static_cast<unsigned char>(text_[pos_++])));
    return w;
  }
  bool Empty() {
    const size_t save = pos_;
    std::string w = Word();
    if (w == "Z" || w == "M" || w == "ZM") {  // "POLYGON Z ((...))"
      const size_t after_dim = pos_;
      w = Word();
      if (w != "EMPTY") pos_ = after_dim;
      return w == "EMPTY";
    }
    if (w == "EMPTY") return true;
    pos_ = save;
    return false;
  }
  bool Accept(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void Expect(char c) {
    if (!Accept(c)) Fail(std::string("expected '") + c + "'");
  }
  bool AtNumber() {
    SkipSpace();
    return pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '-' ||
                                   text_[pos_] == '+' || text_[pos_] == '.');
  }
  double Number() {
    SkipSpace();
    const char* begin = text_.c_str() + pos_;
    char* end = nullptr;
    const double v = std::strtod(begin, &end);
    if (end == begin) Fail("expected a number");
    pos_ += size_t(end - begin);
    return v;
  }
  // "(x y, x y, ...)" -> flat ring without the closing repeat.
  std::vector<double> Ring() {
    Expect('(');
    std::vector<double> ring;
    do {
      ring.push_back(Number());
      ring.push_back(Number());
      while (AtNumber()) Number();  // Z or M.
    } while (Accept(','));
    Expect(')');
    const size_t n = ring.size();
    if (n >= 4 && ring[0] == ring[n - 2] && ring[1] == ring[n - 1]) ring.resize(n - 2);
    return ring;
  }
  WktPolygon Polygon() {
    Expect('(');
    WktPolygon p;
    p.exterior = Ring();
    while (Accept(',')) p.holes.push_back(Ring());
    Expect(')');
    return p;
  }

  const std::string& text_;
  const std::string& where_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<WktPolygon> ParseWkt(const std::string& text, const std::string& where) {
  return WktReader(text, where).Parse();
}

double ShoelaceArea(const std::vector<double>& ring) {
  const size_t n = ring.size() / 2;
  double twice = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t j = (i + 1) % n;
    twice += ring[2 * i] * ring[2 * j + 1] - ring[2 * j] * ring[2 * i + 1];
  }
  return twice / 2;
}

}  // namespace segtune
