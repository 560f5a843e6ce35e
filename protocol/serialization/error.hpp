// Errors of the serialization reader and writer: what was wrong and where.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <string>
#include <string_view>

namespace kite::ser {

enum class ErrorCode {
  Truncated,         // the input ended inside a token
  BadMagic,          // the stream does not start with AC ED
  BadVersion,        // stream version other than 5
  UnexpectedToken,   // a byte that is not valid at this position
  BadHandle,         // TC_REFERENCE to an unknown handle or to a node of the wrong kind
  BadUtf,            // malformed modified UTF-8
  BadLength,         // a negative length, or one larger than the remaining input
  BadClassDesc,      // inconsistent descriptor (unknown type code, bad array name, ...)
  DepthExceeded,     // nesting deeper than ReaderOptions::max_depth
  TooManyObjects,    // more handles than ReaderOptions::max_handles
  UnexpectedReset,   // TC_RESET nested inside an object
  WriteAborted,      // TC_EXCEPTION: the writer failed while writing this object
  Unsupported,       // externalizable data in protocol version 1 (not self-delimiting)
  InvalidGraph,      // writer: a node inconsistent with its descriptor
};

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::UnexpectedToken;
  std::size_t offset = 0;  // byte offset in the input (reader) or output (writer)
  std::string message;

  // "<code> at offset N: <message>"
  std::string describe() const;
};

// std::expected in GCC builds. Clang before 16 cannot compile libstdc++'s
// std::expected (it lacks conditionally trivial special members, and
// libstdc++ 12 hides the header from it), so the libFuzzer build, which
// needs clang, uses the small stand-in below with the subset of the
// interface this codec uses: has_value, operator bool, *, ->, value, error.
#if defined(__clang__) && __clang_major__ < 16
#define KITE_SER_EXPECTED_STAND_IN 1
#endif

#ifndef KITE_SER_EXPECTED_STAND_IN

template <class T>
using Result = std::expected<T, Error>;
using Unexpected = std::unexpected<Error>;

#else

class Unexpected {
 public:
  explicit Unexpected(Error e) : error_(std::move(e)) {}
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
};

template <class T>
class Result {
 public:
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u).error()) {}  // NOLINT: as std::expected
  template <class U = T>
    requires std::is_constructible_v<T, U&&> && (!std::is_same_v<std::remove_cvref_t<U>, Result>) &&
             (!std::is_same_v<std::remove_cvref_t<U>, Unexpected>)
  Result(U&& v) : v_(std::in_place_index<0>, std::forward<U>(v)) {}  // NOLINT: as std::expected

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u).error()) {}  // NOLINT: as std::expected
  bool has_value() const { return !error_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

#endif

}  // namespace kite::ser
