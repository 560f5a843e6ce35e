#include "protocol/transport/remoting_version.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

namespace kite::transport {

namespace {

// One parsed element of a version: an integer (kept as a digit string with
// no leading zeros, so any length compares correctly), a qualifier string, a
// nested list (after "-" between digits) or a wildcard "*".
struct Item {
  enum class Type { kInteger, kString, kList, kWildcard };
  Type type;
  std::string value;
  std::vector<std::unique_ptr<Item>> list;
};

constexpr std::array<std::string_view, 7> kQualifiers = {"snapshot", "alpha", "beta", "milestone", "rc", "", "sp"};

std::string comparable_qualifier(const std::string& qualifier) {
  const auto it = std::find(kQualifiers.begin(), kQualifiers.end(), qualifier);
  if (it == kQualifiers.end()) return std::to_string(kQualifiers.size()) + "-" + qualifier;
  return std::to_string(it - kQualifiers.begin());
}

const std::string kReleaseIndex = comparable_qualifier("");

std::unique_ptr<Item> make_integer(std::string digits) {
  const auto first = digits.find_first_not_of('0');
  digits = first == std::string::npos ? "0" : digits.substr(first);
  return std::make_unique<Item>(Item{Item::Type::kInteger, std::move(digits), {}});
}

std::unique_ptr<Item> make_string(std::string value, bool followed_by_digit) {
  if (followed_by_digit && value.size() == 1) {
    if (value == "a") value = "alpha";
    else if (value == "b") value = "beta";
    else if (value == "m") value = "milestone";
  }
  if (value == "ga" || value == "final") value = "";
  else if (value == "cr" || value == "ea") value = "rc";
  return std::make_unique<Item>(Item{Item::Type::kString, std::move(value), {}});
}

std::unique_ptr<Item> parse_item(bool is_digit, std::string text) {
  return is_digit ? make_integer(std::move(text)) : make_string(std::move(text), false);
}

bool is_null(const Item& item) {
  switch (item.type) {
    case Item::Type::kInteger: return item.value == "0";
    case Item::Type::kString: return comparable_qualifier(item.value) == kReleaseIndex;
    case Item::Type::kList: return item.list.empty();
    case Item::Type::kWildcard: return false;
  }
  return false;
}

void normalize(Item& list) {
  while (!list.list.empty() && is_null(*list.list.back())) list.list.pop_back();
}

int compare_integers(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

// Compares `a` with `b`, where b == nullptr stands for a missing item.
int compare(const Item& a, const Item* b) {
  switch (a.type) {
    case Item::Type::kWildcard:
      return (b != nullptr && b->type == Item::Type::kWildcard) ? 0 : 1;

    case Item::Type::kInteger:
      if (b == nullptr) return a.value == "0" ? 0 : 1;
      switch (b->type) {
        case Item::Type::kInteger: return compare_integers(a.value, b->value);
        case Item::Type::kWildcard: return 0;
        default: return 1;
      }

    case Item::Type::kString:
      if (b == nullptr) return sign(comparable_qualifier(a.value).compare(kReleaseIndex));
      if (b->type == Item::Type::kString) {
        return sign(comparable_qualifier(a.value).compare(comparable_qualifier(b->value)));
      }
      return -1;

    case Item::Type::kList:
      if (b == nullptr) return a.list.empty() ? 0 : compare(*a.list.front(), nullptr);
      if (b->type == Item::Type::kInteger || b->type == Item::Type::kWildcard) return -1;
      if (b->type == Item::Type::kString) return 1;
      for (std::size_t i = 0; i < std::max(a.list.size(), b->list.size()); ++i) {
        const Item* left = i < a.list.size() ? a.list[i].get() : nullptr;
        const Item* right = i < b->list.size() ? b->list[i].get() : nullptr;
        int result = 0;
        if (left == nullptr) {
          result = right == nullptr ? 0 : -compare(*right, nullptr);
        } else {
          result = compare(*left, right);
        }
        if (result != 0) return result;
      }
      return 0;
  }
  return 0;
}

std::unique_ptr<Item> parse_version(std::string_view input) {
  std::string version(input);
  std::transform(version.begin(), version.end(), version.begin(), [](unsigned char c) { return std::tolower(c); });

  auto root = std::make_unique<Item>(Item{Item::Type::kList, {}, {}});
  std::vector<Item*> stack{root.get()};
  Item* list = root.get();
  bool is_digit = false;
  std::size_t start = 0;

  for (std::size_t i = 0; i < version.size(); ++i) {
    const char c = version[i];
    const bool digit = std::isdigit(static_cast<unsigned char>(c)) != 0;
    if (c == '.' || c == '-') {
      if (i == start) {
        list->list.push_back(make_integer("0"));
      } else {
        list->list.push_back(parse_item(is_digit, version.substr(start, i - start)));
      }
      start = i + 1;
      if (c == '-' && is_digit) {
        normalize(*list);
        if (i + 1 < version.size() && std::isdigit(static_cast<unsigned char>(version[i + 1]))) {
          list->list.push_back(std::make_unique<Item>(Item{Item::Type::kList, {}, {}}));
          list = list->list.back().get();
          stack.push_back(list);
        }
      }
    } else if (c == '*') {
      list->list.push_back(std::make_unique<Item>(Item{Item::Type::kWildcard, {}, {}}));
      start = i + 1;
    } else if (digit) {
      if (!is_digit && i > start) {
        list->list.push_back(make_string(version.substr(start, i - start), true));
        start = i;
      }
      is_digit = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (i > start) {
        if (is_digit) {
          list->list.push_back(make_integer(version.substr(start, i - start)));
        } else {
          list->list.push_back(make_string(version.substr(start, i - start), true));
        }
        start = i;
      }
      is_digit = false;
    } else {
      if (is_digit && i > start) {
        list->list.push_back(make_integer(version.substr(start, i - start)));
        start = i;
      }
      is_digit = false;
    }
  }
  if (version.size() > start) list->list.push_back(parse_item(is_digit, version.substr(start)));

  while (!stack.empty()) {
    normalize(*stack.back());
    stack.pop_back();
  }
  return root;
}

}  // namespace

// NOTE: timestamped snapshot suffixes ("-20240101.123456-7") compare as plain
// items here; Jenkins orders them by timestamp. Remoting releases never use them.
int compare_versions(std::string_view a, std::string_view b) {
  const auto left = parse_version(a);
  const auto right = parse_version(b);
  return compare(*left, right.get());
}

}  // namespace kite::transport
