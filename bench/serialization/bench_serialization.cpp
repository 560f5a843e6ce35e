// Serialization codec benchmark: decode and re-encode throughput of Kite on
// the recorded remoting vectors and the JDK oracle's catalogue, next to the
// JDK's ObjectInputStream/ObjectOutputStream (warmed up, same files) in the
// same run, and peak heap while decoding relative to the input size.
//
// usage: bench_serialization [--rounds N] [--java PATH] [--classes DIR] [--vectors DIR]
// Defaults come from the build (the oracle classes of tests/oracle, ../shared/vectors).
// The replacement operator new/delete below pair malloc and free on purpose.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "protocol/serialization/reader.hpp"
#include "protocol/serialization/writer.hpp"

namespace fs = std::filesystem;

// ------------------------------------------------------------ heap accounting
// Every allocation of the process is counted so the peak heap of one decode
// can be compared with its input size.

namespace {
std::atomic<std::size_t> g_live{0};
std::atomic<std::size_t> g_peak{0};

void note_alloc(void* p) {
  if (p == nullptr) return;
  const std::size_t n = malloc_usable_size(p);
  const std::size_t live = g_live.fetch_add(n) + n;
  std::size_t peak = g_peak.load();
  while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
  }
}

void note_free(void* p) {
  if (p != nullptr) g_live.fetch_sub(malloc_usable_size(p));
}
}  // namespace

void* operator new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  note_alloc(p);
  return p;
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept {
  note_free(p);
  std::free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }

namespace {

using Clock = std::chrono::steady_clock;

struct Input {
  std::string name;
  std::vector<std::uint8_t> bytes;
};

std::vector<std::uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::vector<Input> load_dir(const fs::path& dir, const std::string& prefix) {
  std::vector<Input> out;
  if (!fs::is_directory(dir)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".bin") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) out.push_back({prefix + f.filename().string(), read_file(f)});
  return out;
}

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// The commands of the uncompressed WebSocket sessions (jenkins/*.jsonl):
// chunk bodies joined per direction up to a chunk without the "more" bit.
std::vector<Input> load_sessions(const fs::path& dir) {
  std::vector<Input> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".jsonl") continue;
    std::ifstream in(e.path());
    std::string line;
    std::map<std::string, std::vector<std::uint8_t>> pending;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const auto json = nlohmann::json::parse(line);
      const auto message = from_hex(json.at("hex").get<std::string>());
      if (message.size() < 2) continue;
      auto& body = pending[json.at("dir").get<std::string>()];
      body.insert(body.end(), message.begin() + 2, message.end());
      if (message[0] & 0x80) continue;
      out.push_back({fmt::format("{}#{}", e.path().filename().string(), out.size()), std::move(body)});
      body.clear();
    }
  }
  return out;
}

std::size_t total_bytes(const std::vector<Input>& inputs) {
  std::size_t n = 0;
  for (const Input& i : inputs) n += i.bytes.size();
  return n;
}

struct Figures {
  double decode_mbps = 0;
  double encode_mbps = 0;
};

// Decodes every input `rounds` times, then re-encodes the decoded streams `rounds` times.
Figures measure_kite(const std::vector<Input>& inputs, int rounds, bool payloads) {
  kite::ser::ReaderOptions options;
  options.multi_class_loader = payloads;
  std::vector<kite::ser::Stream> decoded;
  for (const Input& i : inputs) {
    auto s = kite::ser::read_stream(i.bytes, options);
    if (!s) {
      std::fprintf(stderr, "%s: %s\n", i.name.c_str(), s.error().describe().c_str());
      std::exit(1);
    }
    decoded.push_back(std::move(*s));
  }
  const double mb = static_cast<double>(total_bytes(inputs)) * rounds / 1e6;

  const auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (const Input& i : inputs) {
      auto s = kite::ser::read_stream(i.bytes, options);
      if (!s) std::abort();
    }
  }
  const auto t1 = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (const kite::ser::Stream& s : decoded) {
      auto w = kite::ser::write_stream(s);
      if (!w) std::abort();
    }
  }
  const auto t2 = Clock::now();
  const auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  return {mb / seconds(t1 - t0), mb / seconds(t2 - t1)};
}

struct Memory {
  double median_ratio = 0;
  double max_ratio = 0;
  std::string max_name;
  double largest_ratio = 0;
  std::string largest_name;
  std::size_t largest_size = 0;
};

// Peak heap growth during one decode (the Stream and everything it owns)
// divided by the input size.
Memory measure_memory(const std::vector<Input>& inputs) {
  Memory m;
  std::vector<double> ratios;
  for (const Input& i : inputs) {
    if (i.bytes.size() < 1024) continue;  // fixed overheads dominate tiny inputs
    const std::size_t before = g_live.load();
    g_peak.store(before);
    {
      auto s = kite::ser::read_stream(i.bytes);
      if (!s) std::abort();
    }
    const double ratio = static_cast<double>(g_peak.load() - before) / static_cast<double>(i.bytes.size());
    ratios.push_back(ratio);
    if (ratio > m.max_ratio) {
      m.max_ratio = ratio;
      m.max_name = i.name;
    }
    if (i.bytes.size() > m.largest_size) {
      m.largest_size = i.bytes.size();
      m.largest_ratio = ratio;
      m.largest_name = i.name;
    }
  }
  if (!ratios.empty()) {
    std::sort(ratios.begin(), ratios.end());
    m.median_ratio = ratios[ratios.size() / 2];
  }
  return m;
}

// Runs the oracle's bench mode and returns its figures; empty on failure.
std::optional<Figures> measure_jdk(const std::string& java, const std::string& classes,
                                   const std::vector<fs::path>& files, int rounds,
                                   std::vector<std::string>& readable) {
  std::string cmd = "'" + java + "' -cp '" + classes + "' kite.oracle.Oracle bench";
  for (const auto& f : files) cmd += " '" + f.string() + "'";
  cmd += " " + std::to_string(rounds);
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::optional<Figures> figures;
  char line[4096];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    double d = 0;
    double e = 0;
    char name[1024];
    if (const char* at = std::strstr(line, "decode_MBps="); at && std::sscanf(at, "decode_MBps=%lf encode_MBps=%lf", &d, &e) == 2) {
      figures = Figures{d, e};
    } else if (std::sscanf(line, "jdk-readable %1023s", name) == 1) {
      readable.emplace_back(name);
    }
  }
  ::pclose(p);
  return figures;
}

void print_row(const char* label, std::size_t files, std::size_t bytes, const Figures& f) {
  std::printf("%-34s %6zu %10zu %12.1f %12.1f\n", label, files, bytes, f.decode_mbps, f.encode_mbps);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 40;
  std::string java = KITE_BENCH_JAVA;
  std::string classes = KITE_BENCH_ORACLE_CLASSES;
  fs::path vectors = KITE_BENCH_VECTORS;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--rounds") rounds = std::atoi(argv[i + 1]);
    else if (a == "--java") java = argv[i + 1];
    else if (a == "--classes") classes = argv[i + 1];
    else if (a == "--vectors") vectors = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: bench_serialization [--rounds N] [--java PATH] [--classes DIR] [--vectors DIR]\n");
      return 2;
    }
  }

  // The oracle catalogue, written fresh by the JDK.
  const fs::path corpus = fs::temp_directory_path() / ("kite-bench-" + std::to_string(::getpid()));
  fs::create_directories(corpus);
  const std::string write_cmd = "'" + java + "' -cp '" + classes + "' kite.oracle.Oracle write '" + corpus.string() + "'";
  const bool have_jdk = !java.empty() && !classes.empty() && std::system(write_cmd.c_str()) == 0;
  std::vector<Input> oracle = have_jdk ? load_dir(corpus, "") : std::vector<Input>{};
  std::vector<Input> plain;
  std::vector<Input> payloads;
  for (Input& i : oracle) (i.name.starts_with("payload_") ? payloads : plain).push_back(std::move(i));
  const std::vector<Input> recorded = load_dir(vectors / "remoting", "vector-");
  const std::vector<Input> sessions = load_sessions(vectors / "jenkins");

  std::printf("Kite serialization benchmark: %d rounds after one warm-up pass\n", rounds);
  std::printf("%-34s %6s %10s %12s %12s\n", "corpus", "files", "bytes", "decode MB/s", "encode MB/s");

  if (!recorded.empty()) {
    measure_kite(recorded, 1, false);
    print_row("kite: remoting vectors", recorded.size(), total_bytes(recorded), measure_kite(recorded, rounds, false));
  } else {
    std::printf("(no recorded vectors at %s)\n", vectors.c_str());
  }

  if (!sessions.empty()) {
    measure_kite(sessions, 1, false);
    print_row("kite: jenkins session commands", sessions.size(), total_bytes(sessions),
              measure_kite(sessions, std::max(1, rounds / 10), false));
  }

  if (have_jdk) {
    // Only the files the JDK can read without the classes of remoting take part.
    std::vector<fs::path> files;
    for (const Input& i : plain) files.push_back(corpus / i.name);
    std::vector<std::string> readable;
    const auto jdk = measure_jdk(java, classes, files, rounds, readable);
    std::vector<Input> common;
    for (const Input& i : plain) {
      if (std::find(readable.begin(), readable.end(), i.name) != readable.end()) common.push_back(i);
    }
    measure_kite(common, 1, false);
    const Figures kite = measure_kite(common, rounds, false);
    print_row("kite: oracle catalogue", common.size(), total_bytes(common), kite);
    if (jdk) {
      print_row("jdk 17: oracle catalogue", common.size(), total_bytes(common), *jdk);
      std::printf("kite/jdk: decode %.1fx, encode %.1fx\n", kite.decode_mbps / jdk->decode_mbps,
                  kite.encode_mbps / jdk->encode_mbps);
    } else {
      std::printf("(the JDK bench failed)\n");
    }
    print_row("kite: oracle payload_* streams", payloads.size(), total_bytes(payloads), measure_kite(payloads, rounds, true));
  } else {
    std::printf("(no JDK oracle: pass --java and --classes)\n");
  }

  std::vector<Input> all = recorded;
  all.insert(all.end(), sessions.begin(), sessions.end());
  all.insert(all.end(), plain.begin(), plain.end());
  const Memory mem = measure_memory(all);
  std::printf("peak heap while decoding / input size (inputs >= 1 KiB): median %.2fx, max %.2fx (%s),\n"
              "  largest input %.2fx (%s, %zu bytes)\n",
              mem.median_ratio, mem.max_ratio, mem.max_name.c_str(), mem.largest_ratio, mem.largest_name.c_str(),
              mem.largest_size);

  std::error_code ec;
  fs::remove_all(corpus, ec);
  return 0;
}
