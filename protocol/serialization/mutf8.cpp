#include "protocol/serialization/mutf8.hpp"

namespace kite::ser::mutf8 {
namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Appends one UTF-16 code unit in modified UTF-8.
void append_unit(std::string& out, std::uint32_t unit) {
  if (unit != 0 && unit < 0x80) {
    out.push_back(static_cast<char>(unit));
  } else if (unit < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (unit >> 6)));
    out.push_back(static_cast<char>(0x80 | (unit & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (unit >> 12)));
    out.push_back(static_cast<char>(0x80 | ((unit >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (unit & 0x3F)));
  }
}

// Calls `emit(unit)` for each UTF-16 code unit of valid modified UTF-8.
template <class Emit>
void for_each_unit(std::string_view s, Emit&& emit) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      emit(static_cast<char16_t>(c));
      p += 1;
    } else if ((c & 0xE0) == 0xC0) {
      emit(static_cast<char16_t>(((c & 0x1F) << 6) | (p[1] & 0x3F)));
      p += 2;
    } else {
      emit(static_cast<char16_t>(((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F)));
      p += 3;
    }
  }
}

bool is_ascii_without_nul(std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0 || c >= 0x80) return false;
  }
  return true;
}

}  // namespace

std::optional<std::size_t> find_invalid(std::string_view bytes) {
  const auto* base = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = base[i];
    if (c < 0x80) {
      i += 1;
    } else if ((c & 0xE0) == 0xC0) {
      if (i + 1 >= n || !is_continuation(base[i + 1])) return i;
      i += 2;
    } else if ((c & 0xF0) == 0xE0) {
      if (i + 2 >= n || !is_continuation(base[i + 1]) || !is_continuation(base[i + 2])) return i;
      i += 3;
    } else {
      return i;
    }
  }
  return std::nullopt;
}

std::string to_utf8(std::string_view s) {
  if (is_ascii_without_nul(s)) return std::string(s);
  std::string out;
  out.reserve(s.size());
  std::uint32_t pending_high = 0;
  for_each_unit(s, [&](char16_t unit) {
    if (pending_high != 0) {
      if (unit >= 0xDC00 && unit <= 0xDFFF) {
        append_utf8(out, 0x10000 + ((pending_high - 0xD800) << 10) + (unit - 0xDC00));
        pending_high = 0;
        return;
      }
      append_utf8(out, pending_high);  // lone high surrogate
      pending_high = 0;
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      pending_high = unit;
    } else {
      append_utf8(out, unit);
    }
  });
  if (pending_high != 0) append_utf8(out, pending_high);
  return out;
}

std::string from_utf8(std::string_view s) {
  if (is_ascii_without_nul(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    std::uint32_t cp = 0xFFFD;
    std::size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < n && is_continuation(p[i + 1])) {
      cp = ((c & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
      len = 2;
    } else if ((c & 0xF0) == 0xE0 && i + 2 < n && is_continuation(p[i + 1]) && is_continuation(p[i + 2])) {
      cp = ((c & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
      len = 3;
    } else if ((c & 0xF8) == 0xF0 && i + 3 < n && is_continuation(p[i + 1]) &&
               is_continuation(p[i + 2]) && is_continuation(p[i + 3])) {
      cp = ((c & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) |
           (p[i + 3] & 0x3Fu);
      len = 4;
      if (cp > 0x10FFFF) cp = 0xFFFD;
    }
    i += len;
    if (cp >= 0x10000) {
      const std::uint32_t v = cp - 0x10000;
      append_unit(out, 0xD800 + (v >> 10));
      append_unit(out, 0xDC00 + (v & 0x3FF));
    } else {
      append_unit(out, cp);
    }
  }
  return out;
}

std::u16string to_utf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  for_each_unit(s, [&](char16_t unit) { out.push_back(unit); });
  return out;
}

std::size_t utf16_length(std::string_view s) {
  std::size_t n = 0;
  for_each_unit(s, [&](char16_t) { ++n; });
  return n;
}

}  // namespace kite::ser::mutf8
