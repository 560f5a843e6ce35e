#include "protocol/transport/ws_frame.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace kite::transport::ws {

void encode_frame(std::vector<std::byte>& out, Opcode opcode, bool fin, std::span<const std::byte> payload,
                  std::array<std::byte, 4> mask_key) {
  out.push_back(std::byte((fin ? 0x80u : 0u) | static_cast<unsigned>(opcode)));

  const std::uint64_t length = payload.size();
  if (length <= 125) {
    out.push_back(std::byte(0x80u | static_cast<unsigned>(length)));
  } else if (length <= 0xffff) {
    out.push_back(std::byte(0x80u | 126u));
    out.push_back(std::byte((length >> 8) & 0xff));
    out.push_back(std::byte(length & 0xff));
  } else {
    out.push_back(std::byte(0x80u | 127u));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(std::byte((length >> shift) & 0xff));
  }

  out.insert(out.end(), mask_key.begin(), mask_key.end());
  // Copy, then mask in place: resizing first would zero-fill the bytes only to
  // overwrite them, which costs as much as the copy.
  const std::size_t start = out.size();
  out.insert(out.end(), payload.begin(), payload.end());
  std::byte* masked = out.data() + start;

  // Mask eight bytes per step: every step starts at an offset divisible by 4,
  // where the 4-byte key starts again, so one 8-byte word of the key fits all.
  const std::array<std::byte, 8> key_twice{mask_key[0], mask_key[1], mask_key[2], mask_key[3],
                                           mask_key[0], mask_key[1], mask_key[2], mask_key[3]};
  std::uint64_t key_word;
  std::memcpy(&key_word, key_twice.data(), sizeof key_word);
  std::size_t i = 0;
  for (; i + sizeof key_word <= payload.size(); i += sizeof key_word) {
    std::uint64_t word;
    std::memcpy(&word, masked + i, sizeof word);
    word ^= key_word;
    std::memcpy(masked + i, &word, sizeof word);
  }
  for (; i < payload.size(); ++i) masked[i] ^= mask_key[i & 3];
}

void encode_close(std::vector<std::byte>& out, std::uint16_t code, std::string_view reason,
                  std::array<std::byte, 4> mask_key) {
  std::vector<std::byte> payload;
  payload.push_back(std::byte(code >> 8));
  payload.push_back(std::byte(code & 0xff));
  const std::size_t reason_room = kMaxControlPayload - 2;
  std::size_t reason_length = std::min(reason.size(), reason_room);
  // Do not cut a UTF-8 sequence in half: back up over continuation bytes.
  while (reason_length < reason.size() && reason_length > 0 &&
         (static_cast<unsigned char>(reason[reason_length]) & 0xC0) == 0x80) {
    --reason_length;
  }
  for (std::size_t i = 0; i < reason_length; ++i) payload.push_back(std::byte(reason[i]));
  encode_frame(out, Opcode::kClose, true, payload, mask_key);
}

void FrameReader::append(std::span<const std::byte> data) {
  if (closed_) return;
  // Drop consumed bytes before growing, so the buffer holds at most one frame
  // plus what arrived after it.
  if (pos_ > 0 && (pos_ == buffer_.size() || pos_ > 65536)) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buffer_.insert(buffer_.end(), data.begin(), data.end());
}

namespace {

Event make_event(Event::Kind kind, std::span<const std::byte> data) {
  Event event;
  event.kind = kind;
  event.data = data;
  return event;
}

bool is_valid_close_code(unsigned code) {
  if (code < 1000) return false;
  if (code >= 3000 && code <= 4999) return true;
  switch (code) {
    case 1000: case 1001: case 1002: case 1003: case 1007: case 1008:
    case 1009: case 1010: case 1011: case 1012: case 1013: case 1014:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::expected<std::optional<Event>, ProtocolError> FrameReader::next() {
  if (closed_) return std::optional<Event>{};
  if (pending_message_end_) {
    pending_message_end_ = false;
    return make_event(Event::Kind::kMessageEnd, {});
  }

  const std::span<const std::byte> avail(buffer_.data() + pos_, buffer_.size() - pos_);
  if (avail.size() < 2) return std::optional<Event>{};

  const auto b0 = std::to_integer<unsigned>(avail[0]);
  const auto b1 = std::to_integer<unsigned>(avail[1]);
  const bool fin = (b0 & 0x80) != 0;
  const unsigned opcode = b0 & 0x0f;

  if ((b0 & 0x70) != 0) return std::unexpected(ProtocolError{kCloseProtocolError, "frame has reserved bits set"});
  if ((b1 & 0x80) != 0) return std::unexpected(ProtocolError{kCloseProtocolError, "server frame is masked"});

  std::size_t header = 2;
  std::uint64_t length = b1 & 0x7f;
  if (length == 126) {
    if (avail.size() < 4) return std::optional<Event>{};
    length = (std::to_integer<std::uint64_t>(avail[2]) << 8) | std::to_integer<std::uint64_t>(avail[3]);
    if (length < 126) return std::unexpected(ProtocolError{kCloseProtocolError, "frame length is not minimally encoded"});
    header = 4;
  } else if (length == 127) {
    if (avail.size() < 10) return std::optional<Event>{};
    length = 0;
    for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | std::to_integer<std::uint64_t>(avail[i]);
    if (length >> 63) return std::unexpected(ProtocolError{kCloseProtocolError, "frame length has the top bit set"});
    if (length <= 0xffff) return std::unexpected(ProtocolError{kCloseProtocolError, "frame length is not minimally encoded"});
    header = 10;
  }

  const bool control = (opcode & 0x8) != 0;
  if (control) {
    if (!fin) return std::unexpected(ProtocolError{kCloseProtocolError, "control frame is fragmented"});
    if (length > kMaxControlPayload) {
      return std::unexpected(ProtocolError{kCloseProtocolError, fmt::format("control frame of {} bytes", length)});
    }
  } else if (length > max_frame_) {
    return std::unexpected(ProtocolError{kCloseMessageTooBig,
                                         fmt::format("frame of {} bytes exceeds the limit of {}", length, max_frame_)});
  }

  // Check the opcode against the message state before waiting for the payload,
  // so a bad stream fails as early as possible.
  switch (opcode) {
    case 0x0:
      if (!in_message_) return std::unexpected(ProtocolError{kCloseProtocolError, "continuation frame outside a message"});
      break;
    case 0x1:
      return std::unexpected(ProtocolError{kCloseUnsupportedData, "text messages are not part of the remoting protocol"});
    case 0x2:
      if (in_message_) return std::unexpected(ProtocolError{kCloseProtocolError, "new message before the previous one ended"});
      break;
    case 0x8: case 0x9: case 0xA:
      break;
    default:
      return std::unexpected(ProtocolError{kCloseProtocolError, fmt::format("unknown opcode {:#x}", opcode)});
  }

  if (!control) {
    const std::uint64_t total = (opcode == 0x0 ? message_size_ : 0) + length;
    if (total > max_message_) {
      return std::unexpected(ProtocolError{kCloseMessageTooBig,
                                           fmt::format("message of {} bytes exceeds the limit of {}", total, max_message_)});
    }
  }

  if (avail.size() - header < length) return std::optional<Event>{};
  const auto payload = avail.subspan(header, static_cast<std::size_t>(length));
  pos_ += header + static_cast<std::size_t>(length);

  switch (opcode) {
    case 0x0:
    case 0x2: {
      message_size_ = (opcode == 0x2 ? 0 : message_size_) + payload.size();
      in_message_ = !fin;
      pending_message_end_ = fin;
      if (fin) message_size_ = 0;
      return make_event(Event::Kind::kBinaryData, payload);
    }
    case 0x9:
      return make_event(Event::Kind::kPing, payload);
    case 0xA:
      return make_event(Event::Kind::kPong, payload);
    default: {  // close
      Event event = make_event(Event::Kind::kClose, {});
      if (payload.size() == 1) return std::unexpected(ProtocolError{kCloseProtocolError, "close frame of 1 byte"});
      if (payload.empty()) {
        event.close_code = kCloseNoStatus;
      } else {
        event.close_code = static_cast<std::uint16_t>((std::to_integer<unsigned>(payload[0]) << 8) |
                                                      std::to_integer<unsigned>(payload[1]));
        if (!is_valid_close_code(event.close_code)) {
          return std::unexpected(ProtocolError{kCloseProtocolError, fmt::format("invalid close code {}", event.close_code)});
        }
        for (std::size_t i = 2; i < payload.size(); ++i) {
          const auto c = std::to_integer<unsigned char>(payload[i]);
          event.close_reason.push_back(c >= 0x20 && c != 0x7f ? static_cast<char>(c) : '?');
        }
      }
      closed_ = true;
      return event;
    }
  }
}

}  // namespace kite::transport::ws
