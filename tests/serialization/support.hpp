// Helpers shared by the serialization tests: files, hex, nested payloads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <unordered_set>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "protocol/serialization/reader.hpp"
#include "protocol/serialization/value.hpp"

namespace kite::ser::test {

inline std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  int pending = -1;
  for (const char c : hex) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (pending < 0) {
      pending = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(pending * 16 + v));
      pending = -1;
    }
  }
  return out;
}

inline std::string to_hex(std::span<const std::uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (const std::uint8_t b : bytes) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

// Offset of the first differing byte, or -1 when equal.
inline long first_difference(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return static_cast<long>(i);
  }
  return a.size() == b.size() ? -1 : static_cast<long>(n);
}

// Calls visit(bytes) for every byte[] value of the stream that starts with
// the stream magic (remoting's nested payloads), in the order first reached.
template <class Visit>
void for_each_nested_payload(const Stream& s, Visit&& visit) {
  std::vector<const Array*> found;
  std::vector<std::uint8_t> seen;
  std::function<void(const Value&)> walk_value;
  std::function<void(const std::vector<Content>&)> walk_contents = [&](const std::vector<Content>& cs) {
    for (const Content& c : cs) {
      if (const auto* v = std::get_if<Value>(&c)) walk_value(*v);
      if (const auto* a = std::get_if<Aborted>(&c)) walk_value(a->exception);
    }
  };
  std::unordered_set<const void*> visited;
  walk_value = [&](const Value& v) {
    if (const Array* a = v.as_array()) {
      if (!visited.insert(a).second) return;
      if (a->element_type == 'B' && a->raw.size() >= 4 && a->raw[0] == 0xAC && a->raw[1] == 0xED) {
        found.push_back(a);
      }
      for (const Value& e : a->elements) walk_value(e);
    } else if (const Object* o = v.as_object()) {
      if (!visited.insert(o).second) return;
      for (const ClassData& cd : o->classes) {
        for (const Value& f : cd.fields) walk_value(f);
        walk_contents(cd.custom);
      }
      walk_contents(o->external);
    }
  };
  walk_contents(s.contents);
  for (const Array* a : found) visit(std::span<const std::uint8_t>(a->raw));
}

}  // namespace kite::ser::test
