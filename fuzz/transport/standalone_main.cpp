// Driver for the transport fuzz targets where libFuzzer is not available
// (GCC, or clang before 16, whose std::expected cannot hold Kite's error
// types). It runs every file named on the command line, then, with
// --random N, N inputs built from a fixed-seed generator by mutating those
// files or random bytes. Build it with -fsanitize=address,undefined.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::vector<std::uint8_t>> seeds;
  long random_runs = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--random") == 0 && i + 1 < argc) {
      random_runs = std::stol(argv[++i]);
      continue;
    }
    const std::filesystem::path path(argv[i]);
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::directory_iterator(path)) seeds.push_back(read_file(entry.path()));
    } else {
      seeds.push_back(read_file(path));
    }
  }
  for (const auto& seed : seeds) LLVMFuzzerTestOneInput(seed.data(), seed.size());

  std::mt19937_64 generator(20261204);
  for (long run = 0; run < random_runs; ++run) {
    std::vector<std::uint8_t> input;
    if (!seeds.empty() && generator() % 4 != 0) {
      input = seeds[generator() % seeds.size()];
      const std::size_t flips = 1 + generator() % 8;
      for (std::size_t k = 0; k < flips && !input.empty(); ++k) input[generator() % input.size()] ^= 1u << (generator() % 8);
      if (generator() % 3 == 0) input.resize(generator() % (input.size() + 1));
    } else {
      input.resize(generator() % 4096);
      for (auto& b : input) b = static_cast<std::uint8_t>(generator());
    }
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("%zu seed inputs and %ld generated inputs ran without a finding\n", seeds.size(), random_runs);
  return 0;
}
