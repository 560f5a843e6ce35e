// Reading the Java objects the Launcher and durable-task callables carry:
// lists, maps, arrays, and the remoting stream references inside them.
// Every function checks classes and counts and returns an error naming the
// unexpected class or value rather than trusting the graph.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocol/serialization/value.hpp"

namespace kite::launcher::java {

// A String List: ArrayList, LinkedList, Arrays$ArrayList, the Collections
// wrappers (unmodifiable, singleton, empty), or a String[]/Object[] array.
std::expected<std::vector<std::string>, std::string> string_list(const ser::Value& value);

// Number of elements of any of those lists (null counts as 0).
std::expected<std::size_t, std::string> list_size(const ser::Value& value);

// A Map<String,String>: TreeMap and its subclass hudson.EnvVars, HashMap,
// LinkedHashMap, Hashtable, Collections$SingletonMap, $UnmodifiableMap, $EmptyMap.
std::expected<std::map<std::string, std::string>, std::string> string_map(const ser::Value& value);

// A String[] (null stays nullopt).
std::expected<std::optional<std::vector<std::string>>, std::string> string_array(const ser::Value& value);

// A boolean[] (null stays nullopt).
std::expected<std::optional<std::vector<bool>>, std::string> boolean_array(const ser::Value& value);

// Export id of the controller's stream inside a hudson.remoting.RemoteOutputStream.
std::optional<std::int32_t> remote_output_stream_oid(const ser::Value& value);

struct RemoteInputRef {
  bool greedy = false;   // greedy streams arrive as a Pipe (not supported here)
  std::int32_t oid = 0;  // controller export id of a non-greedy stream
};
std::optional<RemoteInputRef> remote_input_stream(const ser::Value& value);

// The first RemoteOutputStream reachable from a TaskListener (StreamTaskListener's
// custom data, BufferedBuildListener$Replacement.ros, wrappers' fields), searched
// breadth-first at most `max_depth` objects deep.
std::optional<std::int32_t> listener_stream_oid(const ser::Value& listener, int max_depth = 6);

}  // namespace kite::launcher::java
