#include <catch2/catch.hpp>

#include "protocol/transport/chunk_framer.hpp"

using namespace kite::transport;

namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(std::byte(v));
  return out;
}

std::vector<std::byte> pattern(std::size_t size) {
  std::vector<std::byte> out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = std::byte((i * 31 + 7) & 0xff);
  return out;
}

std::vector<std::byte> chunk_stream(const std::vector<std::byte>& command, std::size_t max_payload) {
  std::vector<std::byte> stream;
  for_each_chunk(command, max_payload, [&](std::array<std::byte, 2> header, std::span<const std::byte> payload) {
    stream.insert(stream.end(), header.begin(), header.end());
    stream.insert(stream.end(), payload.begin(), payload.end());
  });
  return stream;
}

}  // namespace

TEST_CASE("chunk header encodes length and more flag") {
  CHECK(encode_chunk_header(0x769, false) == std::array{std::byte(0x07), std::byte(0x69)});
  CHECK(encode_chunk_header(8192, true) == std::array{std::byte(0xA0), std::byte(0x00)});
  CHECK(encode_chunk_header(0x7fff, false) == std::array{std::byte(0x7f), std::byte(0xff)});
}

TEST_CASE("command of exactly 8192 bytes is one last chunk") {
  std::vector<std::array<std::byte, 2>> headers;
  const auto command = pattern(8192);
  for_each_chunk(command, kMaxChunkPayload, [&](auto header, auto) { headers.push_back(header); });
  REQUIRE(headers.size() == 1);
  CHECK(headers[0] == encode_chunk_header(8192, false));
}

TEST_CASE("command of 8193 bytes is two chunks") {
  std::vector<std::size_t> sizes;
  const auto command = pattern(8193);
  for_each_chunk(command, kMaxChunkPayload, [&](auto, auto payload) { sizes.push_back(payload.size()); });
  CHECK(sizes == std::vector<std::size_t>{8192, 1});
}

TEST_CASE("empty command is one empty chunk") {
  const auto stream = chunk_stream({}, kMaxChunkPayload);
  CHECK(stream == bytes({0, 0}));
}

TEST_CASE("reader reassembles across every split point") {
  const auto a = pattern(300);
  const auto b = pattern(5);
  auto stream = chunk_stream(a, 100);
  const auto tail = chunk_stream(b, 100);
  stream.insert(stream.end(), tail.begin(), tail.end());

  for (std::size_t step : {1u, 2u, 3u, 7u, 101u, 102u, 1000u}) {
    ChunkReader reader(1 << 20);
    std::vector<std::vector<std::byte>> commands;
    for (std::size_t pos = 0; pos < stream.size(); pos += step) {
      const auto piece = std::span(stream).subspan(pos, std::min(step, stream.size() - pos));
      REQUIRE(reader.feed(piece, [&](std::vector<std::byte> c) { commands.push_back(std::move(c)); }));
    }
    INFO("step " << step);
    REQUIRE(commands.size() == 2);
    CHECK(commands[0] == a);
    CHECK(commands[1] == b);
    CHECK(reader.idle());
  }
}

TEST_CASE("reader accepts chunks up to 32767 bytes") {
  const auto command = pattern(70000);
  const auto stream = chunk_stream(command, kMaxChunkLength);
  ChunkReader reader(1 << 20);
  std::vector<std::vector<std::byte>> commands;
  REQUIRE(reader.feed(stream, [&](std::vector<std::byte> c) { commands.push_back(std::move(c)); }));
  REQUIRE(commands.size() == 1);
  CHECK(commands[0] == command);
}

TEST_CASE("reader rejects a command over its limit before buffering it") {
  ChunkReader reader(1000);
  std::vector<std::byte> stream = bytes({0x83, 0xE8});  // 1000 bytes, more follow
  stream.resize(2 + 1000);
  const auto more = bytes({0x00, 0x01, 0x42});  // one more byte: 1001 in total
  stream.insert(stream.end(), more.begin(), more.end());
  auto result = reader.feed(stream, [](std::vector<std::byte>) { FAIL("no command expected"); });
  REQUIRE_FALSE(result);
  CHECK(result.error().offset == 1002);
  CHECK_FALSE(reader.feed(bytes({0, 0}), [](std::vector<std::byte>) {}));
}

TEST_CASE("reader keeps a partial chunk pending") {
  ChunkReader reader(1 << 20);
  int count = 0;
  REQUIRE(reader.feed(bytes({0x00, 0x03, 0x01}), [&](auto) { ++count; }));
  CHECK(count == 0);
  CHECK_FALSE(reader.idle());
  REQUIRE(reader.feed(bytes({0x02, 0x03}), [&](auto) { ++count; }));
  CHECK(count == 1);
}
