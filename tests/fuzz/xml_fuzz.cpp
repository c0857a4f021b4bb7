// formats/xml_document: the expat tree CVAT and Pascal VOC files are read into. Every element's
// attributes and text are also escaped with XmlEscape and parsed again, as the writers do.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "segtune/formats/xml_document.h"

namespace {

void Walk(const segtune::XmlElement& e, int* budget) {
  if (--*budget < 0) return;
  e.Attribute("id");
  e.ChildText("name");
  for (const auto& attribute : e.attributes) {
    // Not a structured binding: clang 14 cannot capture one in a lambda.
    const std::string_view value = attribute.second;
    segtune::fuzz::ExpectCleanOutcome([&] { segtune::ParseXml("<a v=\"" + segtune::XmlEscape(value) + "\"/>", "fuzz.xml: escaped"); });
  }
  segtune::fuzz::ExpectCleanOutcome([&] { segtune::ParseXml("<a>" + segtune::XmlEscape(e.text) + "</a>", "fuzz.xml: escaped"); });
  for (const auto& child : e.children) Walk(*child, budget);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segtune;
  fuzz::ExpectCleanOutcome([&] {
    XmlLimits limits;
    limits.max_elements = 100'000;
    const auto root = ParseXml(fuzz::AsText(data, size), "fuzz.xml", limits);
    int budget = 1000;
    Walk(*root, &budget);
  });
  return 0;
}
