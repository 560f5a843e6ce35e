#include <catch2/catch.hpp>

#include "protocol/transport/ws_frame.hpp"

using namespace kite::transport::ws;

namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(std::byte(v));
  return out;
}

// An unmasked server frame.
std::vector<std::byte> server_frame(int first_byte, std::size_t length, std::byte fill = std::byte(0x5a)) {
  std::vector<std::byte> out{std::byte(first_byte)};
  if (length <= 125) {
    out.push_back(std::byte(length));
  } else if (length <= 0xffff) {
    out.push_back(std::byte(126));
    out.push_back(std::byte(length >> 8));
    out.push_back(std::byte(length & 0xff));
  } else {
    out.push_back(std::byte(127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(std::byte((length >> shift) & 0xff));
  }
  out.insert(out.end(), length, fill);
  return out;
}

std::vector<Event> drain(FrameReader& reader) {
  std::vector<Event> events;
  for (;;) {
    auto next = reader.next();
    REQUIRE(next);
    if (!*next) return events;
    events.push_back(**next);
  }
}

}  // namespace

TEST_CASE("encoded client frames are masked") {
  std::vector<std::byte> out;
  const auto payload = bytes({1, 2, 3, 4, 5});
  encode_frame(out, Opcode::kBinary, true, payload, {std::byte(0xff), std::byte(0), std::byte(0xff), std::byte(0)});
  CHECK(out == bytes({0x82, 0x85, 0xff, 0x00, 0xff, 0x00, 0xfe, 0x02, 0xfc, 0x04, 0xfa}));
}

TEST_CASE("encoded lengths use the minimal form") {
  for (std::size_t length : {125u, 126u, 65535u, 65536u}) {
    std::vector<std::byte> out;
    std::vector<std::byte> payload(length);
    encode_frame(out, Opcode::kBinary, true, payload, {});
    const auto marker = std::to_integer<int>(out[1]) & 0x7f;
    INFO("length " << length);
    CHECK(marker == (length <= 125 ? static_cast<int>(length) : length <= 65535 ? 126 : 127));
    CHECK(out.size() == length + 2 + 4 + (length <= 125 ? 0 : length <= 65535 ? 2 : 8));
  }
}

TEST_CASE("close payload is cut to 125 bytes") {
  std::vector<std::byte> out;
  encode_close(out, 1000, std::string(300, 'x'), {});
  CHECK((std::to_integer<int>(out[1]) & 0x7f) == 125);
}

TEST_CASE("reader yields data of fragmented messages and control frames in between") {
  FrameReader reader(1 << 20, 1 << 20);
  auto stream = server_frame(0x02, 3);           // binary, not final
  auto ping = server_frame(0x89, 4);             // ping in the middle
  auto last = server_frame(0x80, 2);             // continuation, final
  stream.insert(stream.end(), ping.begin(), ping.end());
  stream.insert(stream.end(), last.begin(), last.end());
  // Feed byte by byte: nothing may depend on arrival boundaries.
  std::vector<Event::Kind> kinds;
  std::size_t data = 0;
  for (std::byte b : stream) {
    reader.append(std::span(&b, 1));
    for (const auto& e : drain(reader)) {
      kinds.push_back(e.kind);
      if (e.kind == Event::Kind::kBinaryData) data += e.data.size();
    }
  }
  CHECK(kinds == std::vector{Event::Kind::kBinaryData, Event::Kind::kPing, Event::Kind::kBinaryData, Event::Kind::kMessageEnd});
  CHECK(data == 5);
}

TEST_CASE("reader parses 16-bit and 64-bit lengths") {
  FrameReader reader(1 << 20, 1 << 20);
  auto a = server_frame(0x82, 300);
  auto b = server_frame(0x82, 70000);
  reader.append(a);
  reader.append(b);
  const auto events = drain(reader);
  REQUIRE(events.size() == 4);
  CHECK(events[0].data.size() == 300);
  CHECK(events[2].data.size() == 70000);
}

TEST_CASE("reader parses close frames") {
  FrameReader reader(1 << 20, 1 << 20);
  reader.append(bytes({0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'}));
  const auto events = drain(reader);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == Event::Kind::kClose);
  CHECK(events[0].close_code == 1000);
  CHECK(events[0].close_reason == "bye");

  FrameReader empty(1 << 20, 1 << 20);
  empty.append(bytes({0x88, 0x00}));
  CHECK(drain(empty).at(0).close_code == kCloseNoStatus);
}

TEST_CASE("reader rejects protocol violations") {
  struct Case {
    const char* name;
    std::vector<std::byte> frame;
    std::uint16_t code;
  };
  const std::vector<Case> cases = {
      {"reserved bit", bytes({0xC2, 0x00}), kCloseProtocolError},
      {"masked server frame", bytes({0x82, 0x81, 0, 0, 0, 0, 0}), kCloseProtocolError},
      {"unknown opcode", bytes({0x83, 0x00}), kCloseProtocolError},
      {"text message", bytes({0x81, 0x01, 'a'}), kCloseUnsupportedData},
      {"continuation first", bytes({0x80, 0x00}), kCloseProtocolError},
      {"fragmented ping", bytes({0x09, 0x00}), kCloseProtocolError},
      {"long ping", server_frame(0x89, 126), kCloseProtocolError},
      {"non-minimal 16-bit length", bytes({0x82, 126, 0x00, 0x05}), kCloseProtocolError},
      {"64-bit length with top bit", bytes({0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}), kCloseProtocolError},
      {"one-byte close", bytes({0x88, 0x01, 0x03}), kCloseProtocolError},
      {"invalid close code", bytes({0x88, 0x02, 0x03, 0xed}), kCloseProtocolError},
      {"huge frame", bytes({0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0}), kCloseMessageTooBig},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    FrameReader reader(1 << 20, 1 << 20);
    reader.append(c.frame);
    auto next = reader.next();
    REQUIRE_FALSE(next);
    CHECK(next.error().close_code == c.code);
  }
}

TEST_CASE("reader bounds a fragmented message") {
  FrameReader reader(100, 150);
  reader.append(server_frame(0x02, 100));
  reader.append(server_frame(0x80, 60));
  auto first = reader.next();
  REQUIRE(first);
  REQUIRE(*first);
  auto second = reader.next();
  REQUIRE_FALSE(second);
  CHECK(second.error().close_code == kCloseMessageTooBig);
}

TEST_CASE("new binary message inside a fragmented one is rejected") {
  FrameReader reader(100, 1000);
  reader.append(server_frame(0x02, 1));
  reader.append(server_frame(0x82, 1));
  REQUIRE(reader.next());
  CHECK_FALSE(reader.next());
}
