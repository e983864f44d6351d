// Unit tests of request-target validation, link resolution and content types.
#include "tools/serve/request_path.h"

#include <gtest/gtest.h>

namespace txdir::serve {
namespace {

TEST(RequestPathTest, SplitsACleanPathIntoDecodedSegments) {
  auto p = ParseRequestTarget("/g/3/dir%20x/file.sdn?view=table");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->segments, (std::vector<std::string>{"g", "3", "dir x", "file.sdn"}));
  EXPECT_FALSE(p->trailing_slash);
  EXPECT_EQ(p->query, "view=table");
  EXPECT_EQ(QueryValue(p->query, "view"), "table");

  auto root = ParseRequestTarget("/");
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->segments.empty());
  EXPECT_TRUE(root->trailing_slash);
  auto dir = ParseRequestTarget("/g/3/");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->segments.size(), 2u);
  EXPECT_TRUE(dir->trailing_slash);
}

TEST(RequestPathTest, RefusesEveryTraversalSpelling) {
  for (std::string t : {"",
                        "g/1/a",
                        "/..",
                        "/g/1/..",
                        "/g/1/../x",
                        "/g/1/./x",
                        "/g/1/%2e%2e/x",
                        "/g/1/%2E./x",
                        "/g/1/..%2fx",
                        "/g/1/a%2Fb",
                        "/g/1/%252e%252e/x",
                        "/g/1/%25",
                        "/g/1/a\\b",
                        "/g/1/%5cx",
                        "/g/1/%5Cx",
                        "/g/1/%00",
                        "/g/1/%1f",
                        "/g/1/%7f",
                        "//x",
                        "/g//x",
                        "/g/1//",
                        "/g/1/%",
                        "/g/1/%4",
                        "/g/1/%g0",
                        "http://h/g/1/x"}) {
    EXPECT_FALSE(ParseRequestTarget(t)) << t;
  }
  std::string nul = "/g/1/a";
  nul.push_back('\0');
  EXPECT_FALSE(ParseRequestTarget(nul));
  EXPECT_FALSE(ParseRequestTarget("/g/1/a\nb"));
}

TEST(RequestPathTest, QueriesMayNotCarryControlCharacters) {
  for (std::string t : {"/record/t.sdn?table=t&id=%00", "/record/t.sdn?id=a%0Ab",
                        "/trends/t.sdn?by=%1f", "/history?x=%7F"}) {
    auto p = ParseRequestTarget(t);
    ASSERT_FALSE(p) << t;
    EXPECT_NE(p.error().message.find("in query"), std::string::npos) << t;
  }
  std::string raw = "/history?x=a";
  raw.push_back('\x01');
  EXPECT_FALSE(ParseRequestTarget(raw));
  // An encoded '%', a space or any other byte is a value like any other.
  auto p = ParseRequestTarget("/record/t.sdn?table=t&id=100%25+done%C3%A9");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(QueryValue(p->query, "id"), "100% doneé");
}

TEST(RequestPathTest, LinkTargetsResolveOnlyInsideTheTree) {
  EXPECT_EQ(*ResolveLinkTarget("", "a.txt"), "a.txt");
  EXPECT_EQ(*ResolveLinkTarget("sub", "../a.txt"), "a.txt");
  EXPECT_EQ(*ResolveLinkTarget("a/b", "./c/../d"), "a/b/d");
  EXPECT_FALSE(ResolveLinkTarget("", "../a.txt"));
  EXPECT_FALSE(ResolveLinkTarget("sub", "../../a.txt"));
  EXPECT_FALSE(ResolveLinkTarget("", "/etc/passwd"));
  EXPECT_FALSE(ResolveLinkTarget("", ""));
  EXPECT_FALSE(ResolveLinkTarget("", "."));
}

TEST(RequestPathTest, EncodesHrefs) {
  EXPECT_EQ(EncodePath("a b/<c>&d.txt"), "a%20b/%3Cc%3E%26d.txt");
  EXPECT_EQ(EncodePath("t\"q'.sdn"), "t%22q%27.sdn");
}

TEST(RequestPathTest, ContentTypeByExtension) {
  EXPECT_EQ(ContentTypeFor("x/index.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("t.sdn"), "text/plain; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("d.json"), "application/json");
  EXPECT_EQ(ContentTypeFor(".hidden"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("dir.css/file"), "application/octet-stream");
}

}  // namespace
}  // namespace txdir::serve
