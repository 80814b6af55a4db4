#include "model/codec.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "base/strings.h"

namespace tw::model {
namespace {

namespace json = boost::json;

std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TestData(const std::string& name) {
  return ReadTestFile(std::string(TW_SOURCE_DIR) + "/testdata/codec/" + name);
}

json::value One(std::string_view yaml) {
  auto docs = ParseYamlDocuments(yaml);
  EXPECT_TRUE(docs.ok()) << docs.status().ToString() << "\n" << yaml;
  if (!docs.ok() || docs->size() != 1) {
    ADD_FAILURE() << "expected one document in:\n" << yaml;
    return nullptr;
  }
  return (*docs)[0];
}

std::string ErrorOf(std::string_view yaml) {
  auto docs = ParseYamlDocuments(yaml);
  if (docs.ok()) return "(no error)";
  return docs.error().message();
}

// Same value, and also the same number kinds where it matters (int vs
// double): boost::json treats 1 and 1.0 as different already.
void ExpectRoundTrip(const json::value& v) {
  std::string yaml = ToYaml(v);
  auto back = ParseYamlDocuments(yaml);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << yaml;
  if (v.is_null()) {
    EXPECT_TRUE(back->empty());
    return;
  }
  ASSERT_EQ(back->size(), 1u) << yaml;
  EXPECT_EQ((*back)[0], v) << "YAML:\n" << yaml << "JSON in:  " << json::serialize(v)
                           << "\nJSON out: " << json::serialize((*back)[0]);
}

TEST(CodecScalars, TableFromTestdata) {
  std::string text = TestData("scalars.txt");
  ASSERT_FALSE(text.empty());
  int cases = 0;
  std::istringstream lines(text);
  std::string line;
  int line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    SCOPED_TRACE("scalars.txt:" + std::to_string(line_no));
    if (TrimSpace(line).empty() || line[0] == '#') continue;
    size_t sep = line.find(" => ");
    ASSERT_NE(sep, std::string::npos) << line;
    std::string input(TrimSpace(line.substr(0, sep)));
    std::string expected(TrimSpace(line.substr(sep + 4)));
    ++cases;
    std::string doc = "v: " + input + "\n";
    auto docs = ParseYamlDocuments(doc);
    if (expected.starts_with("ERROR")) {
      std::string want(TrimSpace(expected.substr(5)));
      EXPECT_FALSE(docs.ok()) << "input: " << input;
      if (!docs.ok()) {
        EXPECT_NE(docs.error().message().find(want), std::string::npos)
            << "input: " << input << " error: " << docs.error().message();
      }
      continue;
    }
    ASSERT_TRUE(docs.ok()) << "input: " << input << ": " << docs.status().ToString();
    ASSERT_EQ(docs->size(), 1u) << input;
    json::value want = json::parse(expected);
    const json::value& got = (*docs)[0].as_object()["v"];
    EXPECT_EQ(got, want) << "input: " << input << " got " << json::serialize(got) << " ("
                         << got.kind() << ") want " << expected << " (" << want.kind() << ")";
    // Every successfully read scalar prints back to the same value.
    if (!got.is_null()) ExpectRoundTrip((*docs)[0]);
  }
  EXPECT_GT(cases, 100);
}

TEST(CodecScalars, ResolvePlainScalar) {
  EXPECT_EQ(*ResolvePlainScalar("150"), json::value(150));
  EXPECT_EQ(*ResolvePlainScalar("'150'"), json::value("'150'"));
  EXPECT_EQ(*ResolvePlainScalar("On"), json::value(true));
  EXPECT_EQ(*ResolvePlainScalar(""), json::value(nullptr));
  EXPECT_FALSE(ResolvePlainScalar(".inf").ok());
}

TEST(CodecYaml, MapKeysBecomeStrings) {
  // As go-yaml v2 + sigs.k8s.io/yaml: a key `y` or `yes` is the boolean true.
  json::value v = One("1: a\nyes: b\n1.5: c\nx: d\n0x10: e\nn: f\n");
  EXPECT_EQ(v, json::parse(R"({"1":"a","true":"b","1.5":"c","x":"d","16":"e","false":"f"})"));
  EXPECT_NE(ErrorOf("~: a\n").find("null map keys"), std::string::npos);
  EXPECT_NE(ErrorOf("[a]: b\n").find("map keys must be scalars"), std::string::npos);
  EXPECT_NE(ErrorOf("? {a: 1}\n: b\n").find("map keys must be scalars"), std::string::npos);
}

TEST(CodecYaml, DuplicateKeysAreErrorsWithPosition) {
  EXPECT_EQ(ErrorOf("a: 1\nb:\n  c: 1\n  c: 2\n"),
            "document 1: line 4, column 3: duplicate map key 'c'");
  // "1" and 1 are the same JSON key.
  EXPECT_NE(ErrorOf("1: a\n'1': b\n").find("duplicate map key '1'"), std::string::npos);
}

TEST(CodecYaml, SyntaxErrorsNameDocumentLineAndColumn) {
  std::string err = ErrorOf("a: 1\n---\nb: [1, 2\nc: 3\n");
  EXPECT_TRUE(err.starts_with("document 2: line ")) << err;
  err = ErrorOf("a: 1\n  b: 2\n");
  EXPECT_TRUE(err.starts_with("document 1: line 2, column ")) << err;
  err = ErrorOf("a: \"x\n");
  EXPECT_TRUE(err.starts_with("document 1: line ")) << err;
  err = ErrorOf("a: b\n\tc: d\n");
  EXPECT_TRUE(err.starts_with("document 1: line 2")) << err;
  err = ErrorOf("a: x\xff\n");
  EXPECT_EQ(err, "document 1: line 1, column 5: invalid UTF-8");
  // yaml-cpp would loop forever on a NUL byte: rejected before parsing.
  err = ErrorOf(std::string_view("a: 1\n---\n# c\nb: x\0y\n", 20));
  EXPECT_EQ(err, "document 2: line 4, column 5: control characters are not allowed");
  err = ErrorOf("---\na: 1\n--- x\n---\nb: \x01\n");
  EXPECT_EQ(err, "document 3: line 5, column 4: control characters are not allowed");
  EXPECT_NE(ErrorOf("a: \xC2\x80\n").find("control characters"), std::string::npos);
  // yaml-cpp would report empty documents forever here.
  EXPECT_EQ(ErrorOf(",aa"), "document 1: line 1, column 1: unexpected ','");
  EXPECT_EQ(ErrorOf("a: 1\n---\n,\n"), "document 2: line 3, column 1: unexpected ','");
  EXPECT_EQ(One("a: \"tab\there\"\nb: |\n  x\r\n"), json::parse(R"({"a":"tab\there","b":"x\n"})"));
}

TEST(CodecYaml, TinyFloatsReadExactly) {
  // Found by the fuzzer: reading back must not drift by an ulp.
  json::value v = One("order: -.00000000000000000000000000000057081647999999995\n");
  EXPECT_EQ(v.at("order"), json::value(-5.7081647999999995e-31));
  ExpectRoundTrip(v);
}

TEST(CodecYaml, QuotesAfterNonAsciiTextAndByteOrderMark) {
  EXPECT_EQ(One("\xEF\xBB\xBF" "a: 'it''s'\nb: it's\n\xC3\xA9: \"x\"\n"),
            json::parse(R"({"a":"it's","b":"it's","\u00e9":"x"})"));
  EXPECT_EQ(One("\xC3\xA9\xC3\xA9: '\xC3\xA9'\n"), json::parse(R"({"\u00e9\u00e9":"\u00e9"})"));
  EXPECT_NE(ErrorOf("\xC3\xA9: 'x\n").find("unterminated quoted string"), std::string::npos);
}

TEST(CodecYaml, MultipleDocumentsAndEmptyOnes) {
  auto docs = ParseYamlStream("---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n---\nc: 3\n---\n");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 3u);
  EXPECT_EQ((*docs)[0].index, 1);
  EXPECT_EQ((*docs)[1].index, 3);
  EXPECT_EQ((*docs)[2].index, 4);
  EXPECT_EQ((*docs)[2].value, json::parse(R"({"c":3})"));
  EXPECT_TRUE(ParseYamlDocuments("")->empty());
  EXPECT_TRUE(ParseYamlDocuments("# nothing\n")->empty());
  EXPECT_TRUE(ParseYamlDocuments("---\n---\n")->empty());
}

TEST(CodecYaml, FoldedAndMultiLineScalars) {
  json::value v = One(
      "a: >-\n"
      "  (component == \"apiserver\"&&endpoints.projectcalico.org/serviceName ==\n"
      "  \"kubernetes\")\n"
      "b: plain\n"
      "  continued\n"
      "c: |\n"
      "  l1\n"
      "  l2\n"
      "d: \"dq\n"
      "  folded\"\n");
  EXPECT_EQ(v.at("a"),
            json::value("(component == \"apiserver\"&&endpoints.projectcalico.org/serviceName == \"kubernetes\")"));
  EXPECT_EQ(v.at("b"), json::value("plain continued"));
  EXPECT_EQ(v.at("c"), json::value("l1\nl2\n"));
  EXPECT_EQ(v.at("d"), json::value("dq folded"));
}

TEST(CodecYaml, AnchorsAliasesAndMergeKeys) {
  json::value v = One(
      "base: &b {x: 1, z: 2}\n"
      "copy: *b\n"
      "merged:\n"
      "  <<: *b\n"
      "  z: 3\n"
      "multi:\n"
      "  z: 0\n"
      "  <<: [{x: 9, w: 1}, {w: 2, v: 3}]\n");
  EXPECT_EQ(v.at("copy"), json::parse(R"({"x":1,"z":2})"));
  EXPECT_EQ(v.at("merged"), json::parse(R"({"z":3,"x":1})"));
  EXPECT_EQ(v.at("multi"), json::parse(R"({"z":0,"x":9,"w":1,"v":3})"));
  EXPECT_NE(ErrorOf("a: &x [*x]\n").find("contains it"), std::string::npos);
  EXPECT_NE(ErrorOf("a: *nope\n"), "(no error)");
  EXPECT_NE(ErrorOf("a:\n  <<: 3\n").find("merge key"), std::string::npos);
}

TEST(CodecYaml, BillionLaughsIsRejected) {
  std::string doc = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    doc += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) doc += std::string(k ? ", " : "") + "*a" + std::to_string(i - 1);
    doc += "]\n";
  }
  EXPECT_NE(ErrorOf(doc).find("excessive aliasing"), std::string::npos);
}

TEST(CodecYaml, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '[');
  EXPECT_NE(ErrorOf(deep), "(no error)");
  std::string deep_json(100000, '[');
  EXPECT_FALSE(ParseJsonDocuments(deep_json).ok());
}

TEST(CodecJson, StreamsAndErrors) {
  auto docs = ParseJsonDocuments("{\"a\":1}\n{\"b\":[1,2.5]} 7 \"s\"\n");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 4u);
  EXPECT_EQ((*docs)[1], json::parse(R"({"b":[1,2.5]})"));
  EXPECT_EQ((*docs)[2], json::value(7));
  EXPECT_TRUE(ParseJsonDocuments("  \n")->empty());
  auto bad = ParseJsonDocuments("{\"a\":1}\n{\"b\":\n  x}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "document 2: line 3, column 3: syntax error");
  bad = ParseJsonDocuments("{\"a\":1}\n{\"m\": {\"x\": 1,\n \"x\": 2}}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "document 2: line 3, column 4: duplicate map key 'x'");
  EXPECT_TRUE(ParseJsonDocuments("{\"x\": {\"x\": 1}, \"y\": {\"x\": 2}}").ok());
  bad = ParseJsonDocuments("{\"a\": 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().message().starts_with("document 1: line 1, column 8: ")) << bad.error().message();
}

TEST(CodecToYaml, GoldenCasesFromTestdata) {
  std::string text = TestData("to_yaml.txt");
  ASSERT_FALSE(text.empty());
  std::vector<std::string> chunks;
  size_t pos = text.find("\n=== ");
  int cases = 0;
  while (pos != std::string::npos) {
    size_t next = text.find("\n=== ", pos + 1);
    std::string chunk = text.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos);
    size_t name_end = chunk.find('\n');
    std::string name = chunk.substr(4, name_end - 4);
    std::string body = chunk.substr(name_end + 1);
    size_t sep = body.find("\n---\n");
    ASSERT_NE(sep, std::string::npos) << name;
    json::value input = json::parse(body.substr(0, sep));
    std::string expected = body.substr(sep + 5);
    while (expected.ends_with("\n\n")) expected.pop_back();
    if (!expected.ends_with("\n")) expected += "\n";
    EXPECT_EQ(ToYaml(input), expected) << "case: " << name;
    ExpectRoundTrip(input);
    ++cases;
    pos = next;
  }
  EXPECT_GE(cases, 10);
}

TEST(CodecToYaml, LongKeysUseExplicitKeyForm) {
  json::object o;
  o[std::string(130, 'k')] = json::object{{"a", 1}};
  o["multi\nline"] = "v";
  std::string yaml = ToYaml(o);
  EXPECT_NE(yaml.find("? kkkk"), std::string::npos) << yaml;
  ExpectRoundTrip(o);
}

TEST(CodecToYaml, NoFoldingWhenWidthIsOff) {
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "word ";
  long_text += "end";
  json::object o{{"k", long_text}};
  EXPECT_EQ(ToYaml(o, YamlOptions{0}), "k: " + long_text + "\n");
  EXPECT_NE(ToYaml(o).find("\n  word"), std::string::npos);
  ExpectRoundTrip(o);
}

// Random values built from awkward pieces must survive ToYaml -> parse.
TEST(CodecToYaml, RandomRoundTrips) {
  const std::vector<std::string> pieces = {
      "a", "150", "true", "yes", "null", "~", "", " ", "  ", ":", ": ", "#", " #", "-", "- ", "?",
      "'", "\"", "\\", "\n", "\n\n", "\t", "\r", "é", "😀", "\u2028", "0x1F", "1e3", "1:20", "{",
      "}", "[", "]", ",", "&", "*", "!", "|", ">", "%", "@", "`", "---", "...", "2026-01-01",
      "<<", "word", "x y", ".inf", "\x01", "\x7f", "\u0085", "\u00a0", "\ufeff"};
  std::mt19937 rng(12345);
  auto random_string = [&]() {
    std::string s;
    int n = static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
    if (rng() % 8 == 0) {
      for (int i = 0; i < 30; ++i) s += "ab cd ";  // long enough to fold
    }
    return s;
  };
  std::function<json::value(int)> random_value = [&](int depth) -> json::value {
    int k = static_cast<int>(rng() % (depth > 3 ? 6 : 9));
    switch (k) {
      case 0: return nullptr;
      case 1: return rng() % 2 == 0;
      case 2: return static_cast<int64_t>(rng()) - (1LL << 31);
      case 3: {
        if (rng() % 2) return 0.5 + static_cast<double>(rng() % 1000);
        // Any finite, non-integral double (integral ones read back as ints).
        double d;
        do {
          uint64_t bits = (static_cast<uint64_t>(rng()) << 32) | rng();
          std::memcpy(&d, &bits, sizeof d);
        } while (!std::isfinite(d) || d == std::trunc(d));
        return d;
      }
      case 4:
      case 5: return json::value(random_string());
      case 6: {
        json::array a;
        int n = static_cast<int>(rng() % 4);
        for (int i = 0; i < n; ++i) a.push_back(random_value(depth + 1));
        return a;
      }
      default: {
        json::object o;
        int n = static_cast<int>(rng() % 5);
        for (int i = 0; i < n; ++i) o[random_string()] = random_value(depth + 1);
        return o;
      }
    }
  };
  for (int i = 0; i < 3000; ++i) {
    json::object root{{"root", random_value(0)}};
    ExpectRoundTrip(root);
    if (HasFailure()) break;
  }
}

TEST(CodecSeed, EveryManifestRoundTripsWithExpectedValues) {
  const std::string dir = "/work/shared/seed/manifests";
  std::string local = std::string(TW_SOURCE_DIR) + "/examples/manifests";
  std::vector<std::string> files;
  for (const std::string& d : {dir, local}) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(d, ec))
      if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  }
  if (files.empty()) GTEST_SKIP() << "no seed manifests found";
  for (const std::string& f : files) {
    auto docs = ParseYamlDocuments(ReadTestFile(f));
    ASSERT_TRUE(docs.ok()) << f << ": " << docs.status().ToString();
    EXPECT_FALSE(docs->empty()) << f;
    for (const json::value& d : *docs) ExpectRoundTrip(d);
  }
}

TEST(CodecSeed, SeedValuesHaveTheRightTypes) {
  const std::string path = "/work/shared/seed/manifests/31-east-west-traffic.yaml";
  std::string text = ReadTestFile(path);
  if (text.empty()) GTEST_SKIP() << "seed not present";
  auto docs = ParseYamlDocuments(text);
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  bool saw_frontend = false;
  for (const json::value& d : *docs) {
    const json::object& o = d.as_object();
    if (o.at("metadata").at("name") == "default.adservice") {
      EXPECT_EQ(o.at("spec").at("order"), json::value(100));
      EXPECT_TRUE(o.at("spec").at("order").is_int64());
      const json::value& port = o.at("spec").at("ingress").at(0).at("destination").at("ports").at(0);
      EXPECT_EQ(port, json::value("9555"));
    }
    if (o.at("metadata").at("name") == "default.frontend") {
      saw_frontend = true;
      EXPECT_EQ(o.at("spec").at("order"), json::value(150));
      EXPECT_EQ(o.at("spec").at("ingress").at(2).at("source").at("selector"),
                json::value("(component == \"apiserver\"&&endpoints.projectcalico.org/serviceName == "
                            "\"kubernetes\")"));
    }
  }
  EXPECT_TRUE(saw_frontend);
}

TEST(CodecPrettyJson, LooksLikeKubectl) {
  json::value v = json::parse(R"({"b":1,"a":{"x":[1,2.5,"<&>"],"e":{},"l":[]},"s":"q\"\u2028\n","n":null,"f":1e21})");
  EXPECT_EQ(ToPrettyJson(v),
            "{\n"
            "    \"b\": 1,\n"
            "    \"a\": {\n"
            "        \"x\": [\n"
            "            1,\n"
            "            2.5,\n"
            "            \"\\u003c\\u0026\\u003e\"\n"
            "        ],\n"
            "        \"e\": {},\n"
            "        \"l\": []\n"
            "    },\n"
            "    \"s\": \"q\\\"\\u2028\\n\",\n"
            "    \"n\": null,\n"
            "    \"f\": 1e+21\n"
            "}");
  EXPECT_EQ(json::parse(ToPrettyJson(v)), v);
}

TEST(CodecScalarToString, GoFormatting) {
  EXPECT_EQ(ScalarToString(json::value(150)), "150");
  EXPECT_EQ(ScalarToString(json::value(1.5)), "1.5");
  EXPECT_EQ(ScalarToString(json::value(1e6)), "1e+06");
  EXPECT_EQ(ScalarToString(json::value(123456.0)), "123456");
  EXPECT_EQ(ScalarToString(json::value(0.0001)), "0.0001");
  EXPECT_EQ(ScalarToString(json::value(0.00001)), "1e-05");
  EXPECT_EQ(ScalarToString(json::value(true)), "true");
  EXPECT_EQ(ScalarToString(json::value(nullptr)), "null");
  EXPECT_EQ(ScalarToString(json::value("x y")), "x y");
}

// Speed guard for the 1M-entry network set: measured and printed, with a
// generous bound only to catch an accidental quadratic algorithm.
TEST(CodecToYaml, MillionNetsPrintQuickly) {
  json::array nets;
  nets.reserve(1000000);
  for (int i = 0; i < 1000000; ++i) {
    nets.push_back(json::value(std::to_string(10 + i / 65536 % 200) + "." + std::to_string(i / 256 % 256) +
                               "." + std::to_string(i % 256) + ".0/24"));
  }
  json::value gns = {{"apiVersion", "projectcalico.org/v3"},
                     {"kind", "GlobalNetworkSet"},
                     {"metadata", {{"name", "threatfeed.big"}}},
                     {"spec", {{"nets", std::move(nets)}}}};
  auto start = std::chrono::steady_clock::now();
  std::string yaml = ToYaml(gns);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::cout << "[ measure ] ToYaml of a 1,000,000-net GlobalNetworkSet: " << ms.count() << " ms, "
            << yaml.size() << " bytes\n";
  EXPECT_NE(yaml.find("\n  - 10.0.1.0/24\n"), std::string::npos);
  EXPECT_TRUE(yaml.starts_with("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\n"));
  // Reading it back through yaml-cpp takes ~10 s (yaml-cpp parses ~2 MB/s),
  // too slow for a unit test: check a 20,000-entry slice instead.
  json::array& all = gns.as_object()["spec"].as_object()["nets"].as_array();
  all.resize(20000);
  ExpectRoundTrip(gns);
}

}  // namespace
}  // namespace tw::model
