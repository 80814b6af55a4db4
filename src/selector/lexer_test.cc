#include "selector/lexer.h"

#include <gtest/gtest.h>

#include <string>

namespace tw::selector {
namespace {

// The token stream as "Kind:text@column ..." (text only where it matters),
// or "error: <message>".
std::string Tokens(std::string_view input) {
  Lexer lexer(input);
  std::string out;
  for (int i = 0; i < 100; ++i) {
    auto tok = lexer.Next();
    if (!out.empty()) out += ' ';
    if (!tok.ok()) return out + "error: " + tok.error().message();
    out += DescribeToken(*tok);
    if (tok->kind == TokenKind::kString || tok->kind == TokenKind::kHas) {
      out += "=" + std::string(tok->text);
    }
    out += "@" + std::to_string(tok->column);
    if (tok->kind == TokenKind::kEnd) return out;
  }
  return out + " (no end)";
}

TEST(SelectorLexerTest, TokensAndColumns) {
  EXPECT_EQ(Tokens(""), "end of input@1");
  EXPECT_EQ(Tokens(" \t "), "end of input@4");
  EXPECT_EQ(Tokens(R"(a == "x")"), "label 'a'@1 '=='@3 string=x@6 end of input@9");
  EXPECT_EQ(Tokens("a!='y'&&!b"), "label 'a'@1 '!='@2 string=y@4 '&&'@7 '!'@9 label 'b'@10 end of input@11");
  EXPECT_EQ(Tokens("has( k )||all()"), "'has('=k@1 '||'@9 'all('@11 end of input@16");
  EXPECT_EQ(Tokens("global() ( ) { } ,"), "'global('@1 '('@10 ')'@12 '{'@14 '}'@16 ','@18 end of input@19");
  EXPECT_EQ(Tokens("k not \t in {}"), "label 'k'@1 'not in'@3 '{'@12 '}'@13 end of input@14");
  EXPECT_EQ(Tokens("k starts with 'a' k ends with 'b'"),
            "label 'k'@1 'starts with'@3 string=a@15 label 'k'@19 'ends with'@21 string=b@31 "
            "end of input@34");
  EXPECT_EQ(Tokens("k contains in in"), "label 'k'@1 'contains'@3 label 'in'@12 'in'@15 end of input@17");
}

TEST(SelectorLexerTest, EndRepeats) {
  Lexer lexer("a");
  ASSERT_EQ(lexer.Next()->kind, TokenKind::kLabel);
  EXPECT_EQ(lexer.Next()->kind, TokenKind::kEnd);
  EXPECT_EQ(lexer.Next()->kind, TokenKind::kEnd);
}

TEST(SelectorLexerTest, Errors) {
  EXPECT_EQ(Tokens("a = 'x'"), "label 'a'@1 error: unexpected '=' at column 3");
  EXPECT_EQ(Tokens("'abc"), "error: unterminated string at column 1");
  EXPECT_EQ(Tokens("a\n"), "label 'a'@1 error: newline is not allowed at column 2");
  EXPECT_EQ(Tokens("k startswit 'a'"), "label 'k'@1 error: expected an operator after label 'k' at column 3");
  EXPECT_EQ(Tokens("has(1 2)"), "error: expected ')' at column 7");
}

}  // namespace
}  // namespace tw::selector
