// libFuzzer target for durable-task file parsers: jenkins-result.txt text,
// the wrapper command recognition and transcoding of output.txt.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runner/durable/control_files.hpp"
#include "runner/durable/wrapper.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kite::durable;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  (void)parse_status(input, "/fuzz/jenkins-result.txt");

  std::vector<std::string> argv = {"nohup", "sh", "-c", std::string(input)};
  (void)foreground_wrapper(argv);

  if (size > 0) {
    static const char* const charsets[] = {"ISO-8859-1", "US-ASCII", "UTF-16", "Shift_JIS", "windows-1252", "UTF-8"};
    const char* charset = charsets[data[0] % (sizeof charsets / sizeof charsets[0])];
    (void)transcode_to_utf8(std::string(input.substr(1)), std::string(charset));
  }
  return 0;
}
