#include "segtune/formats/xml_document.h"

#include <gtest/gtest.h>

#include "segtune/core/error.h"

namespace {

TEST(XmlDocument, ReadsElementsAttributesTextAndLines) {
  const auto root = segtune::ParseXml(
      "<?xml version=\"1.0\"?>\n<annotations>\n  <version>1.1</version>\n"
      "  <image id=\"0\" name=\"a &amp; b.jpg\">\n    <box label=\"cat\"/>\n    <box label=\"dog\"/>\n  </image>\n"
      "</annotations>\n",
      "t.xml");
  EXPECT_EQ(root->name, "annotations");
  EXPECT_EQ(root->ChildText("version"), "1.1");
  const segtune::XmlElement* image = root->Child("image");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->line, 4);
  ASSERT_NE(image->Attribute("name"), nullptr);
  EXPECT_EQ(*image->Attribute("name"), "a & b.jpg");
  EXPECT_EQ(image->Attribute("width"), nullptr);
  const auto boxes = image->Children("box");
  ASSERT_EQ(boxes.size(), 2u);
  EXPECT_EQ(*boxes[1]->Attribute("label"), "dog");
  EXPECT_EQ(boxes[1]->line, 6);
}

TEST(XmlDocument, MalformedInputNamesTheSourceAndLine) {
  try {
    segtune::ParseXml("<a>\n<b>\n</a>", "bad.xml");
    FAIL();
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.xml: line 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(segtune::ParseXml("", "empty.xml"), segtune::FormatError);
}

TEST(XmlDocument, RefusesEntityDeclarationsSoBombsCannotExpand) {
  const std::string bomb =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
      " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n]>\n<lolz>&lol2;</lolz>";
  try {
    segtune::ParseXml(bomb, "bomb.xml");
    FAIL();
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("entity"), std::string::npos) << e.what();
  }
  // An external entity is never fetched: the declaration alone is refused.
  EXPECT_THROW(segtune::ParseXml("<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>", "ext.xml"),
               segtune::FormatError);
}

TEST(XmlDocument, DepthAndElementCountAreBounded) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  try {
    segtune::ParseXml(deep, "deep.xml");
    FAIL();
  } catch (const segtune::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("deeper than 64"), std::string::npos) << e.what();
  }
  segtune::XmlLimits limits;
  limits.max_elements = 3;
  EXPECT_THROW(segtune::ParseXml("<a><b/><b/><b/></a>", "many.xml", limits), segtune::FormatError);
  EXPECT_NO_THROW(segtune::ParseXml("<a><b/><b/></a>", "ok.xml", limits));
}

TEST(XmlDocument, EscapeMakesTextThatParsesBackToTheSameString) {
  const std::string raw = "a<b>&\"c'\x01z";
  const auto root = segtune::ParseXml("<x v=\"" + segtune::XmlEscape(raw) + "\">" + segtune::XmlEscape(raw) + "</x>", "e.xml");
  EXPECT_EQ(*root->Attribute("v"), "a<b>&\"c'\xEF\xBF\xBDz");
  EXPECT_EQ(root->text, "a<b>&\"c'\xEF\xBF\xBDz");
}

}  // namespace
