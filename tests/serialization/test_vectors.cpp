// Recorded remoting traffic: every command and every nested payload must
// decode, re-encode byte for byte, and agree with the independent decodes
// (class descriptors, strings, primitive field values). Exits with 77
// (skipped) when the vectors directory is absent.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "protocol/serialization/dump.hpp"
#include "protocol/serialization/reader.hpp"
#include "protocol/serialization/writer.hpp"
#include "tests/serialization/support.hpp"

namespace fs = std::filesystem;
using namespace kite::ser;
using kite::ser::test::first_difference;
using kite::ser::test::from_hex;
using kite::ser::test::read_file;

namespace {

fs::path g_vectors;

// Facts as "level|text", level 0 for the command, 1 for a payload inside it, ...
using Facts = std::multiset<std::string>;

void collect_facts(const Stream& s, int level, Facts& facts);

void facts_of_value(const Value& v, int level, Facts& facts, std::unordered_set<const void*>& seen);

void facts_of_desc(const ClassDesc* d, int level, Facts& facts, std::unordered_set<const void*>& seen) {
  for (; d != nullptr && seen.insert(d).second; d = d->super) {
    if (!d->proxy) facts.insert(fmt::format("{}|desc 0x{:x} {} {}", level, d->handle, d->name, d->svuid));
    for (const Content& c : d->annotation) {
      if (const auto* v = std::get_if<Value>(&c)) facts_of_value(*v, level, facts, seen);
    }
  }
}

std::string prim_text(const Value& v) {
  const auto& s = v.storage();
  if (const auto* b = std::get_if<bool>(&s)) return *b ? "True" : "False";
  if (const auto* x = std::get_if<std::int8_t>(&s)) return std::to_string(*x);
  if (const auto* x = std::get_if<std::int16_t>(&s)) return std::to_string(*x);
  if (const auto* x = std::get_if<std::int32_t>(&s)) return std::to_string(*x);
  if (const auto* x = std::get_if<std::int64_t>(&s)) return std::to_string(*x);
  return {};
}

void facts_of_contents(const std::vector<Content>& cs, int level, Facts& facts, std::unordered_set<const void*>& seen) {
  for (const Content& c : cs) {
    if (const auto* v = std::get_if<Value>(&c)) facts_of_value(*v, level, facts, seen);
  }
}

void facts_of_value(const Value& v, int level, Facts& facts, std::unordered_set<const void*>& seen) {
  if (const JString* s = v.as_jstring()) {
    if (seen.insert(s).second) facts.insert(fmt::format("{}|str 0x{:x} {}", level, s->handle, s->utf8()));
  } else if (const Object* o = v.as_object()) {
    if (!seen.insert(o).second) return;
    facts_of_desc(o->desc, level, facts, seen);
    for (const ClassData& cd : o->classes) {
      for (std::size_t i = 0; i < cd.fields.size(); ++i) {
        const std::string text = prim_text(cd.fields[i]);
        if (!text.empty()) facts.insert(fmt::format("{}|prim {} {}", level, cd.desc->fields[i].name, text));
        facts_of_value(cd.fields[i], level, facts, seen);
      }
      facts_of_contents(cd.custom, level, facts, seen);
    }
    facts_of_contents(o->external, level, facts, seen);
  } else if (const Array* a = v.as_array()) {
    if (!seen.insert(a).second) return;
    facts_of_desc(a->desc, level, facts, seen);
    for (const Value& e : a->elements) facts_of_value(e, level, facts, seen);
    if (a->element_type == 'B' && a->raw.size() >= 4 && a->raw[0] == 0xAC && a->raw[1] == 0xED) {
      auto nested = read_payload(a->raw);
      if (nested) collect_facts(*nested, level + 1, facts);
    }
  } else if (const EnumConstant* e = v.as_enum()) {
    if (!seen.insert(e).second) return;
    facts_of_desc(e->desc, level, facts, seen);
    if (e->name) facts.insert(fmt::format("{}|str 0x{:x} {}", level, e->name->handle, e->name->utf8()));
  } else if (const ClassObject* c = v.as_class()) {
    if (seen.insert(c).second) facts_of_desc(c->desc, level, facts, seen);
  } else if (const ClassDesc* d = v.as_class_desc()) {
    facts_of_desc(d, level, facts, seen);
  }
}

void collect_facts(const Stream& s, int level, Facts& facts) {
  std::unordered_set<const void*> seen;
  for (const Content& c : s.contents) {
    if (const auto* v = std::get_if<Value>(&c)) facts_of_value(*v, level, facts, seen);
  }
}

// Facts listed by an independent decode (decoded/*.txt).
Facts facts_of_text(const fs::path& path) {
  static const std::regex desc(R"(TC_CLASSDESC h=0x([0-9a-f]+) (\S+) suid=(-?\d+))");
  static const std::regex str(R"re(TC_STRING h=0x([0-9a-f]+) "(.*)"$)re");
  static const std::regex prim(R"(@\d+ ([IJZSB]) (\S+) = (\S+)  \[)");
  Facts facts;
  std::ifstream in(path);
  std::string line;
  int level = 0;
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.find(">>> nested") != std::string::npos) ++level;
    if (line.find("<<< end nested") != std::string::npos) --level;
    if (std::regex_search(line, m, desc)) {
      facts.insert(fmt::format("{}|desc 0x{} {} {}", level, m[1].str(), m[2].str(), m[3].str()));
    } else if (std::regex_search(line, m, str)) {
      const std::string text = m[2].str();
      const bool plain = text.find('\\') == std::string::npos && text.find('"') == std::string::npos;
      if (plain) facts.insert(fmt::format("{}|str 0x{} {}", level, m[1].str(), text));
    } else if (std::regex_search(line, m, prim)) {
      facts.insert(fmt::format("{}|prim {} {}", level, m[2].str(), m[3].str()));
    }
  }
  return facts;
}

// Decodes a command and its nested payloads, re-encodes each, and returns the command.
Stream check_round_trip(const std::vector<std::uint8_t>& bytes, const std::string& what) {
  INFO(what);
  auto stream = read_stream(bytes);
  if (!stream) FAIL(stream.error().describe());
  auto again = write_stream(*stream);
  REQUIRE(again.has_value());
  INFO("first difference at " << first_difference(*again, bytes));
  CHECK(*again == bytes);
  kite::ser::test::for_each_nested_payload(*stream, [&](std::span<const std::uint8_t> payload) {
    const std::vector<std::uint8_t> copy(payload.begin(), payload.end());
    auto nested = read_payload(copy);
    if (!nested) FAIL("nested payload: " << nested.error().describe());
    auto re = write_stream(*nested);
    REQUIRE(re.has_value());
    CHECK(*re == copy);
  });
  return std::move(*stream);
}

std::string read_gzip(const fs::path& path) {
  std::string out;
  archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_raw(a);
  archive_entry* entry = nullptr;
  if (archive_read_open_filename(a, path.c_str(), 1 << 16) == ARCHIVE_OK &&
      archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    char buf[1 << 16];
    la_ssize_t n = 0;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  }
  archive_read_free(a);
  return out;
}

}  // namespace

TEST_CASE("remoting vectors round-trip and match their decodes") {
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(g_vectors / "remoting")) {
    if (entry.path().extension() != ".bin") continue;
    const std::string name = entry.path().filename().string();
    const Stream s = check_round_trip(read_file(entry.path()), name);
    ++files;

    const fs::path text = g_vectors / "remoting" / "decoded" / (entry.path().stem().string() + ".txt");
    if (!fs::exists(text)) continue;
    Facts ours;
    collect_facts(s, 0, ours);
    const Facts listed = facts_of_text(text);
    Facts missing;
    std::set_difference(listed.begin(), listed.end(), ours.begin(), ours.end(),
                        std::inserter(missing, missing.begin()));
    INFO(name << ": " << listed.size() << " listed facts");
    for (const std::string& m : missing) UNSCOPED_INFO("not decoded: " << m);
    CHECK(missing.empty());
    CHECK(!listed.empty());
  }
  CHECK(files >= 100);
}

TEST_CASE("jenkins sessions decode command by command") {
  std::size_t commands = 0;
  for (const auto& entry : fs::directory_iterator(g_vectors / "jenkins")) {
    const std::string name = entry.path().filename().string();
    std::string text;
    if (name.ends_with(".jsonl.gz")) {
      text = read_gzip(entry.path());
      REQUIRE(!text.empty());
    } else if (name.ends_with(".jsonl")) {
      std::ifstream in(entry.path());
      text.assign(std::istreambuf_iterator<char>(in), {});
    } else {
      continue;
    }
    std::map<std::string, std::vector<std::uint8_t>> pending;
    std::istringstream lines(text);
    std::string line;
    std::size_t line_no = 0;
    while (std::getline(lines, line)) {
      ++line_no;
      if (line.empty()) continue;
      const auto json = nlohmann::json::parse(line);
      const std::string dir = json.at("dir").get<std::string>();
      const auto message = from_hex(json.at("hex").get<std::string>());
      REQUIRE(message.size() >= 2);
      const unsigned header = (unsigned{message[0]} << 8) | message[1];
      REQUIRE(message.size() - 2 == (header & 0x7FFF));
      auto& body = pending[dir];
      body.insert(body.end(), message.begin() + 2, message.end());
      if (header & 0x8000) continue;
      check_round_trip(body, fmt::format("{} line {} ({})", name, line_no, dir));
      body.clear();
      ++commands;
    }
  }
  INFO("commands decoded: " << commands);
  CHECK(commands > 100);
}

int main(int argc, char** argv) {
  const char* dir = std::getenv("KITE_VECTORS");
  g_vectors = dir != nullptr ? fs::path(dir) : fs::path();
  if (g_vectors.empty() || !fs::exists(g_vectors / "remoting")) {
    std::printf("SKIP: no recorded vectors at '%s' (set KITE_VECTORS; the checkout needs ../shared/vectors)\n",
                g_vectors.c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
