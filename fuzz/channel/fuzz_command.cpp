// libFuzzer target of the remoting command decoder. Any byte string must
// decode to a command or an error without crashing. A decoded UserRequest's
// payload also goes through the payload reader, and stream commands must
// re-encode and decode to the same fields.
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "protocol/channel/commands.hpp"
#include "protocol/serialization/reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kite::channel;
  auto command = decode_command(std::span<const std::uint8_t>(data, size));
  if (!command) return 0;
  if (const auto* request = std::get_if<UserRequestCmd>(&*command)) {
    (void)kite::ser::read_payload(request->payload);
  } else if (const auto* chunk = std::get_if<StreamChunkCmd>(&*command)) {
    auto again = decode_command(encode_stream_chunk(chunk->io_id, chunk->oid, chunk->request_id, chunk->data));
    if (!again || std::get<StreamChunkCmd>(*again).data != chunk->data) __builtin_trap();
  } else if (const auto* ack = std::get_if<StreamAckCmd>(&*command)) {
    auto again = decode_command(encode_stream_ack(ack->oid, ack->size));
    if (!again || std::get<StreamAckCmd>(*again).size != ack->size) __builtin_trap();
  }
  return 0;
}
