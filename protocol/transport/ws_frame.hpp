// RFC 6455 framing for the client side of a WebSocket: encoding masked frames
// and parsing the unmasked frames a server sends, with the message-level rules
// (fragmentation, interleaved control frames, close payloads) on top.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kite::transport::ws {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes used by Kite (RFC 6455 section 7.4.1).
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseGoingAway = 1001;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseUnsupportedData = 1003;
inline constexpr std::uint16_t kCloseNoStatus = 1005;  // never sent, reported when a close frame has no code
inline constexpr std::uint16_t kCloseMessageTooBig = 1009;
inline constexpr std::uint16_t kCloseInternalError = 1011;

// Largest payload of a control frame.
inline constexpr std::size_t kMaxControlPayload = 125;

// Appends one frame to `out`. Client frames are always masked with `mask_key`.
void encode_frame(std::vector<std::byte>& out, Opcode opcode, bool fin, std::span<const std::byte> payload,
                  std::array<std::byte, 4> mask_key);

// Appends a close frame carrying `code` and `reason` (the reason is cut to fit
// the 125-byte control payload).
void encode_close(std::vector<std::byte>& out, std::uint16_t code, std::string_view reason,
                  std::array<std::byte, 4> mask_key);

struct ProtocolError {
  std::uint16_t close_code = kCloseProtocolError;  // code to send in our close frame
  std::string message;
};

// One item decoded from the server stream.
struct Event {
  enum class Kind { kBinaryData, kMessageEnd, kPing, kPong, kClose };
  Kind kind = Kind::kMessageEnd;
  std::span<const std::byte> data;  // kBinaryData: payload bytes; kPing/kPong: payload. Valid until next call.
  std::uint16_t close_code = 0;     // kClose: code, kCloseNoStatus when absent
  std::string close_reason;         // kClose
};

// Incremental reader of server frames. Payload bytes of binary messages are
// passed on as they arrive (one event per frame), so a message is never
// buffered whole. `max_message` bounds one (possibly fragmented) message, and
// `max_frame` bounds the payload of one frame, which is buffered.
class FrameReader {
 public:
  FrameReader(std::size_t max_frame, std::size_t max_message) : max_frame_(max_frame), max_message_(max_message) {}

  // Appends received bytes.
  void append(std::span<const std::byte> data);

  // Decodes the next event from the buffered bytes: nothing (need more
  // bytes), an event, or a protocol error after which the reader must not be
  // used again. After a close event further bytes are ignored.
  std::expected<std::optional<Event>, ProtocolError> next();

  std::size_t buffered() const { return buffer_.size() - pos_; }

 private:
  std::size_t max_frame_;
  std::size_t max_message_;
  std::vector<std::byte> buffer_;
  std::size_t pos_ = 0;
  bool in_message_ = false;       // a fragmented binary message is in progress
  std::size_t message_size_ = 0;  // bytes of the current message so far
  bool pending_message_end_ = false;
  bool closed_ = false;
};

}  // namespace kite::transport::ws
