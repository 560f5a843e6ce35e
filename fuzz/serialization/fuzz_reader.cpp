// libFuzzer target for the serialization reader: any input must give a
// stream or a typed error, never a crash, a leak or a huge allocation. A
// stream that parses must also write, and writing is idempotent: the
// written bytes parse again and write to the same bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/serialization/dump.hpp"
#include "protocol/serialization/reader.hpp"
#include "protocol/serialization/writer.hpp"

namespace {

void check_stream(std::span<const std::uint8_t> input, bool payload) {
  kite::ser::ReaderOptions options;
  options.multi_class_loader = payload;
  options.max_depth = 200;  // keeps ASan's larger stack frames well inside the thread stack
  auto stream = kite::ser::read_stream(input, options);
  if (!stream) return;

  (void)kite::ser::dump(*stream);
  auto written = kite::ser::write_stream(*stream);
  if (!written) __builtin_trap();
  auto again = kite::ser::read_stream(*written, options);
  if (!again) __builtin_trap();
  auto rewritten = kite::ser::write_stream(*again);
  if (!rewritten || *rewritten != *written) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  check_stream(input, false);
  check_stream(input, true);
  return 0;
}
