#include "runner/launcher/java_values.hpp"

#include <deque>
#include <set>

#include "protocol/serialization/build.hpp"

namespace kite::launcher::java {
namespace {

std::string describe(const ser::Value& value) {
  if (value.is_null()) return "null";
  auto name = value.class_name();
  return name.empty() ? std::string("a primitive value") : std::string(name);
}

// Values written after the block data of a custom writeObject section.
std::vector<ser::Value> custom_values(const ser::ClassData* data) {
  std::vector<ser::Value> values;
  if (data == nullptr) return values;
  for (const auto& content : data->custom) {
    if (const auto* v = std::get_if<ser::Value>(&content)) values.push_back(*v);
  }
  return values;
}

std::optional<std::int32_t> custom_int(const ser::ClassData* data, std::size_t index) {
  if (data == nullptr) return std::nullopt;
  ser::BlockReader reader(ser::BlockReader::join(data->custom));
  std::optional<std::int32_t> value;
  for (std::size_t i = 0; i <= index; ++i) value = reader.read_int();
  return value;
}

std::expected<std::vector<ser::Value>, std::string> list_values(const ser::Value& value, int depth) {
  if (depth > 4) return std::unexpected("list wrappers nested too deeply");
  if (value.is_null()) return std::vector<ser::Value>{};
  if (const ser::Array* array = value.as_array()) {
    if (array->is_primitive()) return std::unexpected("expected a list but got " + describe(value));
    return array->elements;
  }
  const ser::Object* object = value.as_object();
  if (object == nullptr) return std::unexpected("expected a list but got " + describe(value));

  const auto name = object->class_name();
  if (name == "java.util.ArrayList" || name == "java.util.LinkedList") {
    auto values = custom_values(object->class_data(name));
    std::optional<std::int32_t> size;
    if (name == "java.util.ArrayList") {
      if (const ser::Value* field = object->field(name, "size")) size = field->as_int();
    } else {
      size = custom_int(object->class_data(name), 0);
    }
    if (!size || *size < 0 || static_cast<std::size_t>(*size) != values.size()) {
      return std::unexpected(std::string(name) + " size does not match its elements");
    }
    return values;
  }
  if (name == "java.util.Arrays$ArrayList") return list_values(*object->field("a"), depth + 1);
  if (name == "java.util.Collections$UnmodifiableList" || name == "java.util.Collections$UnmodifiableRandomAccessList" ||
      name == "java.util.Collections$SynchronizedList" || name == "java.util.Collections$SynchronizedRandomAccessList") {
    const ser::Value* inner = object->field("list");
    if (inner == nullptr) return std::unexpected(std::string(name) + " without its list field");
    return list_values(*inner, depth + 1);
  }
  if (name == "java.util.Collections$SingletonList") {
    const ser::Value* element = object->field("element");
    if (element == nullptr) return std::unexpected("Collections$SingletonList without its element");
    return std::vector<ser::Value>{*element};
  }
  if (name == "java.util.Collections$EmptyList") return std::vector<ser::Value>{};
  return std::unexpected("unsupported list class " + std::string(name));
}

std::expected<std::vector<std::pair<ser::Value, ser::Value>>, std::string> map_entries(const ser::Value& value,
                                                                                      int depth) {
  using Entries = std::vector<std::pair<ser::Value, ser::Value>>;
  if (depth > 4) return std::unexpected("map wrappers nested too deeply");
  if (value.is_null()) return Entries{};
  const ser::Object* object = value.as_object();
  if (object == nullptr) return std::unexpected("expected a map but got " + describe(value));

  auto pairs_from = [](const ser::ClassData* data, std::optional<std::int32_t> count,
                       std::string_view name) -> std::expected<Entries, std::string> {
    auto values = custom_values(data);
    if (!count || *count < 0 || values.size() != 2 * static_cast<std::size_t>(*count)) {
      return std::unexpected(std::string(name) + " entry count does not match its contents");
    }
    Entries entries;
    for (std::size_t i = 0; i + 1 < values.size(); i += 2) entries.emplace_back(values[i], values[i + 1]);
    return entries;
  };

  if (object->is_instance_of("java.util.TreeMap")) {
    const ser::ClassData* data = object->class_data("java.util.TreeMap");
    return pairs_from(data, custom_int(data, 0), "TreeMap");
  }
  if (object->is_instance_of("java.util.HashMap")) {
    const ser::ClassData* data = object->class_data("java.util.HashMap");
    return pairs_from(data, custom_int(data, 1), "HashMap");  // capacity, then size
  }
  if (object->is_instance_of("java.util.Hashtable")) {
    const ser::ClassData* data = object->class_data("java.util.Hashtable");
    return pairs_from(data, custom_int(data, 1), "Hashtable");  // length, then count
  }
  const auto name = object->class_name();
  if (name == "java.util.Collections$SingletonMap") {
    const ser::Value* key = object->field("k");
    const ser::Value* v = object->field("v");
    if (key == nullptr || v == nullptr) return std::unexpected("Collections$SingletonMap without k or v");
    return Entries{{*key, *v}};
  }
  if (name == "java.util.Collections$UnmodifiableMap" || name == "java.util.Collections$UnmodifiableSortedMap" ||
      name == "java.util.Collections$SynchronizedMap") {
    const ser::Value* inner = object->field("m");
    if (inner == nullptr) return std::unexpected(std::string(name) + " without its map field");
    return map_entries(*inner, depth + 1);
  }
  if (name == "java.util.Collections$EmptyMap") return Entries{};
  return std::unexpected("unsupported map class " + std::string(name));
}

}  // namespace

std::expected<std::vector<std::string>, std::string> string_list(const ser::Value& value) {
  auto values = list_values(value, 0);
  if (!values) return std::unexpected(values.error());
  std::vector<std::string> strings;
  for (const auto& element : *values) {
    auto text = element.as_string();
    if (!text) return std::unexpected("expected a String list element but got " + describe(element));
    strings.push_back(std::move(*text));
  }
  return strings;
}

std::expected<std::size_t, std::string> list_size(const ser::Value& value) {
  auto values = list_values(value, 0);
  if (!values) return std::unexpected(values.error());
  return values->size();
}

std::expected<std::map<std::string, std::string>, std::string> string_map(const ser::Value& value) {
  auto entries = map_entries(value, 0);
  if (!entries) return std::unexpected(entries.error());
  std::map<std::string, std::string> result;
  for (const auto& [key, v] : *entries) {
    auto key_text = key.as_string();
    auto value_text = v.as_string();
    if (!key_text || !value_text) {
      return std::unexpected("expected String keys and values but got " + describe(key) + " and " + describe(v));
    }
    result[std::move(*key_text)] = std::move(*value_text);
  }
  return result;
}

std::expected<std::optional<std::vector<std::string>>, std::string> string_array(const ser::Value& value) {
  if (value.is_null()) return std::nullopt;
  const ser::Array* array = value.as_array();
  if (array == nullptr || array->is_primitive()) return std::unexpected("expected String[] but got " + describe(value));
  std::vector<std::string> strings;
  for (const auto& element : array->elements) {
    auto text = element.as_string();
    if (!text) return std::unexpected("expected a String element but got " + describe(element));
    strings.push_back(std::move(*text));
  }
  return strings;
}

std::expected<std::optional<std::vector<bool>>, std::string> boolean_array(const ser::Value& value) {
  if (value.is_null()) return std::nullopt;
  const ser::Array* array = value.as_array();
  if (array == nullptr || array->element_type != 'Z') {
    return std::unexpected("expected boolean[] but got " + describe(value));
  }
  std::vector<bool> flags;
  for (std::uint8_t byte : array->raw) flags.push_back(byte != 0);
  return flags;
}

std::optional<std::int32_t> remote_output_stream_oid(const ser::Value& value) {
  const ser::Object* object = value.as_object();
  if (object == nullptr || object->class_name() != "hudson.remoting.RemoteOutputStream") return std::nullopt;
  return custom_int(object->class_data("hudson.remoting.RemoteOutputStream"), 0);
}

std::optional<RemoteInputRef> remote_input_stream(const ser::Value& value) {
  const ser::Object* object = value.as_object();
  if (object == nullptr || object->class_name() != "hudson.remoting.RemoteInputStream") return std::nullopt;
  const ser::ClassData* data = object->class_data("hudson.remoting.RemoteInputStream");
  if (data == nullptr) return std::nullopt;
  ser::BlockReader reader(ser::BlockReader::join(data->custom));
  auto greedy = reader.read_bool();
  if (!greedy) return std::nullopt;
  if (*greedy) return RemoteInputRef{true, 0};
  auto oid = reader.read_int();
  if (!oid) return std::nullopt;
  return RemoteInputRef{false, *oid};
}

std::optional<std::int32_t> listener_stream_oid(const ser::Value& listener, int max_depth) {
  std::deque<std::pair<const ser::Object*, int>> queue;
  std::set<const ser::Object*> seen;
  if (const ser::Object* root = listener.as_object()) queue.emplace_back(root, 0);
  while (!queue.empty()) {
    auto [object, depth] = queue.front();
    queue.pop_front();
    if (!seen.insert(object).second) continue;
    if (auto oid = remote_output_stream_oid(ser::Value(object))) return oid;
    if (depth >= max_depth) continue;
    for (const auto& data : object->classes) {
      for (const auto& field : data.fields) {
        if (const ser::Object* child = field.as_object()) queue.emplace_back(child, depth + 1);
      }
      for (const auto& content : data.custom) {
        if (const auto* v = std::get_if<ser::Value>(&content)) {
          if (const ser::Object* child = v->as_object()) queue.emplace_back(child, depth + 1);
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace kite::launcher::java
