#include <catch2/catch.hpp>

#include "protocol/transport/capability.hpp"
#include "protocol/transport/remoting_version.hpp"

using namespace kite::transport;

namespace {
// The header remoting 3386 sends for its default capability (mask 510).
constexpr const char* kHeader510 =
    "rO0ABXNyABpodWRzb24ucmVtb3RpbmcuQ2FwYWJpbGl0eQAAAAAAAAABAgABSgAEbWFza3hwAAAAAAAAAf4=";
}  // namespace

TEST_CASE("capability header for mask 510 matches remoting") {
  CHECK(encode_capability_header(0x1FE) == kHeader510);
}

TEST_CASE("capability header parses any mask") {
  CHECK(parse_capability_header(kHeader510).value() == 0x1FE);
  CHECK(parse_capability_header(encode_capability_header(0x0)).value() == 0);
  CHECK(parse_capability_header(encode_capability_header(0xFFFFFFFFFFFFFFFFull)).value() == 0xFFFFFFFFFFFFFFFFull);
  CHECK(parse_capability_header(std::string(" ") + kHeader510 + " ").value() == 0x1FE);
}

TEST_CASE("capability header rejects other content") {
  CHECK_FALSE(parse_capability_header(""));
  CHECK_FALSE(parse_capability_header("not base64!"));
  CHECK_FALSE(parse_capability_header(base64_encode("hello world")));
  std::string other(kHeader510);
  other[20] = 'A';  // corrupts the class name
  CHECK_FALSE(parse_capability_header(other));
  CHECK_FALSE(parse_capability_header(std::string(400, 'A')));
}

TEST_CASE("base64 round trip and padding") {
  for (std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    CHECK(base64_decode(base64_encode(text)).value() == text);
  }
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK_FALSE(base64_decode("Zm9=v"));
  CHECK_FALSE(base64_decode("Z=9v"));
  CHECK_FALSE(base64_decode("Zh=="));  // non-zero bits under the padding
  CHECK_FALSE(base64_decode("Zm9="));
}

TEST_CASE("remoting versions compare like Jenkins VersionNumber") {
  CHECK(compare_versions("3386.v353e57a_1b_ea_0", "3176.v207ec082a_8c0") > 0);
  CHECK(compare_versions("3176.v207ec082a_8c0", "3386.v353e57a_1b_ea_0") < 0);
  CHECK(compare_versions("3386.v353e57a_1b_ea_0", "3386.v353e57a_1b_ea_0") == 0);
  CHECK(compare_versions("3386.v353e57a_1b_ea_0", "9999.v0") < 0);
  CHECK(compare_versions("4.13", "4.13.3") < 0);
  CHECK(compare_versions("1.0", "1") == 0);
  CHECK(compare_versions("1.0-SNAPSHOT", "1.0") < 0);
  CHECK(compare_versions("1.0-alpha-1", "1.0-beta-1") < 0);
  CHECK(compare_versions("1.0-rc1", "1.0") < 0);
  CHECK(compare_versions("1.10", "1.9") > 0);
  CHECK(compare_versions("3256.v88a_f6e922152", "3248.3250.v3277a_8e88c9b_") > 0);
  CHECK(compare_versions("12345678901234567890", "12345678901234567889") > 0);
}
