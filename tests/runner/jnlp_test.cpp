// -jnlpUrl against a real HTTP server (python3 -m http.server) serving .jnlp
// files, one of them encrypted with the openssl CLI as the controller does
// for "?encrypt=true".
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "runner/daemon/jnlp.hpp"

using namespace kite::daemon;
namespace fs = std::filesystem;

namespace {

constexpr const char* kSecret = "00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef";

std::string jnlp_document(const std::string& secret) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<jnlp codebase="http://127.0.0.1/computer/agent%201/" spec="1.0+">
  <information><title>Agent for agent 1</title><vendor>Jenkins project</vendor></information>
  <security><all-permissions/></security>
  <resources><j2se version="1.8+"/><jar href="http://127.0.0.1/jnlpJars/remoting.jar"/></resources>
  <application-desc>
    <!-- secret, name, then options -->
    <argument>)" + secret + R"(</argument>
    <argument>agent &amp; 1</argument>
    <argument>-webSocket</argument>
    <argument>-url</argument>
    <argument><![CDATA[http://127.0.0.1:8080/jenkins/]]></argument>
    <argument>-workDir</argument>
    <argument>/home/jenkins/agent</argument>
  </application-desc>
</jnlp>
)";
}

// A python3 http.server in a directory, on an ephemeral loopback port.
class StaticServer {
 public:
  explicit StaticServer(const fs::path& root) {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(out[1], STDERR_FILENO);
      ::close(out[0]);
      ::chdir(root.c_str());
      ::execlp("python3", "python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "0", nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    output_ = ::fdopen(out[0], "r");
    char line[512];
    const std::regex port_re("port ([0-9]+)");
    while (std::fgets(line, sizeof line, output_) != nullptr) {
      std::cmatch m;
      if (std::regex_search(line, m, port_re)) {
        port_ = std::stoi(m[1]);
        break;
      }
    }
  }
  ~StaticServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (output_ != nullptr) std::fclose(output_);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  std::FILE* output_ = nullptr;
  int port_ = 0;
};

bool have_python() { return std::system("python3 -c 'import http.server' >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("jnlp arguments parse with entities, CDATA and comments") {
  auto arguments = parse_jnlp_arguments(jnlp_document("s"));
  REQUIRE(arguments);
  CHECK(*arguments == std::vector<std::string>{"s", "agent & 1", "-webSocket", "-url", "http://127.0.0.1:8080/jenkins/",
                                                "-workDir", "/home/jenkins/agent"});
  CHECK(parse_jnlp_arguments("<jnlp><application-desc><argument>&#x41;&#66;</argument><argument/></application-desc></jnlp>").value() ==
        std::vector<std::string>{"AB", ""});
}

TEST_CASE("jnlp parser rejects malformed input") {
  CHECK_FALSE(parse_jnlp_arguments("<html><body>Login</body></html>"));
  CHECK_FALSE(parse_jnlp_arguments("<application-desc><argument>x"));
  CHECK_FALSE(parse_jnlp_arguments("<application-desc><argument>&bogus;</argument>"));
  CHECK_FALSE(parse_jnlp_arguments("<application-desc><argument>&#0;</argument>"));
  CHECK_FALSE(parse_jnlp_arguments("<application-desc><argument><b>x</b></argument>"));
  CHECK_FALSE(parse_jnlp_arguments(std::string(2 << 20, ' ')));
}

TEST_CASE("jnlp arguments apply like agent.jar") {
  AgentCommandLine cl;
  cl.jnlp_url = "http://x/";
  auto arguments = parse_jnlp_arguments(jnlp_document(kSecret)).value();
  REQUIRE(apply_jnlp_arguments(cl, arguments));
  CHECK(cl.secret == kSecret);
  CHECK(cl.name == "agent & 1");
  CHECK(cl.url == "http://127.0.0.1:8080/jenkins/");
  CHECK(cl.web_socket);
  CHECK(cl.work_dir == "/home/jenkins/agent");
  CHECK_FALSE(cl.jnlp_url);
}

TEST_CASE("jnlpUrl is fetched from an HTTP server, plain and encrypted") {
  if (!have_python()) {
    WARN("SKIP: python3 is not available to serve the .jnlp file");
    return;
  }
  const fs::path root = fs::temp_directory_path() / ("kite-jnlp-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "computer" / "agent1");
  fs::create_directories(root / "computer" / "agent2");
  {
    std::ofstream(root / "computer" / "agent1" / "jenkins-agent.jnlp") << jnlp_document(kSecret);
    std::ofstream(root / "plain.jnlp") << jnlp_document(kSecret);
  }
  // The controller's encrypted form: 16-byte IV, then AES-128/CFB8 with the
  // first 16 bytes of the secret as key. Made here by the openssl CLI.
  const std::string iv = "0f0e0d0c0b0a09080706050403020100";
  const std::string key = std::string(kSecret).substr(0, 32);
  const std::string encrypted = (root / "computer" / "agent2" / "jenkins-agent.jnlp").string();
  {
    std::ofstream out(encrypted, std::ios::binary);
    for (std::size_t i = 0; i < iv.size(); i += 2) out.put(static_cast<char>(std::stoi(iv.substr(i, 2), nullptr, 16)));
  }
  const std::string command = "openssl enc -aes-128-cfb8 -K " + key + " -iv " + iv + " -in '" + (root / "plain.jnlp").string() +
                              "' >> '" + encrypted + "'";
  REQUIRE(std::system(command.c_str()) == 0);

  StaticServer server(root);
  REQUIRE(server.port() > 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  const std::atomic<bool> stop{false};
  kite::transport::NetOptions net;

  SECTION("plain file") {
    AgentCommandLine cl;
    cl.jnlp_url = base + "/computer/agent1/jenkins-agent.jnlp";
    cl.no_reconnect = true;
    REQUIRE(resolve_jnlp(cl, net, stop));
    CHECK(cl.name == "agent & 1");
    CHECK(cl.secret == kSecret);
    CHECK(cl.url == "http://127.0.0.1:8080/jenkins/");
  }
  SECTION("encrypted file with -secret") {
    AgentCommandLine cl;
    cl.jnlp_url = base + "/computer/agent2/jenkins-agent.jnlp";
    cl.secret = kSecret;
    cl.no_reconnect = true;
    auto resolved = resolve_jnlp(cl, net, stop);
    INFO((resolved ? std::string("ok") : resolved.error()));
    REQUIRE(resolved);
    CHECK(cl.name == "agent & 1");
    CHECK(cl.web_socket);
  }
  SECTION("wrong secret fails to decrypt") {
    AgentCommandLine cl;
    cl.jnlp_url = base + "/computer/agent2/jenkins-agent.jnlp";
    cl.secret = std::string(64, 'f');
    cl.no_reconnect = true;
    auto resolved = resolve_jnlp(cl, net, stop);
    REQUIRE_FALSE(resolved);
  }
  SECTION("missing file is an HTTP error") {
    AgentCommandLine cl;
    cl.jnlp_url = base + "/computer/nobody/jenkins-agent.jnlp";
    cl.no_reconnect = true;
    auto resolved = resolve_jnlp(cl, net, stop);
    REQUIRE_FALSE(resolved);
    CHECK_THAT(resolved.error(), Catch::Contains("HTTP 404"));
  }
  fs::remove_all(root);
}
