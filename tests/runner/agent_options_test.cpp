#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "runner/daemon/agent_options.hpp"
#include "runner/daemon/config_file.hpp"
#include "runner/daemon/work_dir.hpp"

using namespace kite::daemon;
namespace fs = std::filesystem;

namespace {

std::expected<AgentCommandLine, std::string> parse(std::initializer_list<std::string_view> args) {
  std::vector<std::string_view> list(args);
  return parse_agent_args(list);
}

EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / fs::path("kite-runner-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

}  // namespace

TEST_CASE("agent.jar options parse") {
  auto cl = parse({"-url", "https://ci.example.com/jenkins", "-name", "n1", "-secret", "s3cr3t", "-webSocket",
                   "-workDir", "/tmp/w", "-internalDir", "int", "-failIfWorkDirIsMissing", "-noReconnect",
                   "-webSocketHeader", "X-A=b=c", "-webSocketHeader", "X-B=", "-proxyCredentials", "u:p", "-headless"});
  REQUIRE(cl);
  CHECK(cl->url == "https://ci.example.com/jenkins");
  CHECK(cl->name == "n1");
  CHECK(cl->secret == "s3cr3t");
  CHECK(cl->web_socket);
  CHECK(cl->work_dir == "/tmp/w");
  CHECK(cl->internal_dir == "int");
  CHECK(cl->fail_if_work_dir_missing);
  CHECK(cl->no_reconnect);
  REQUIRE(cl->websocket_headers.size() == 2);
  CHECK(cl->websocket_headers[0] == std::pair<std::string, std::string>{"X-A", "b=c"});
  CHECK(cl->websocket_headers[1] == std::pair<std::string, std::string>{"X-B", ""});
  CHECK(cl->proxy_credentials == "u:p");
  CHECK(cl->warnings.size() == 1);
  CHECK(cl->secret_args == std::vector<std::size_t>{5, 18});
}

TEST_CASE("double-dash and equals forms parse") {
  auto cl = parse({"--url=http://h/", "--name", "n", "--secret=@/tmp/x", "--webSocket", "--noreconnect",
                   "-disableHttpsCertValidation", "--log-file", "/tmp/log"});
  REQUIRE(cl);
  CHECK(cl->url == "http://h/");
  CHECK(cl->secret == "@/tmp/x");
  CHECK(cl->secret_args.empty());
  CHECK(cl->no_reconnect);
  CHECK(cl->no_certificate_check);
  CHECK(cl->agent_log == "/tmp/log");
}

TEST_CASE("positional secret and name") {
  auto cl = parse({"-url", "http://h/", "abc", "agent"});
  REQUIRE(cl);
  CHECK(cl->secret == "abc");
  CHECK(cl->name == "agent");
  CHECK(cl->secret_args == std::vector<std::size_t>{2});
}

TEST_CASE("invalid command lines are rejected with a reason") {
  struct Case {
    std::vector<std::string_view> args;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {{"-bogus"}, "unknown option '-bogus'"},
      {{"-url"}, "needs a value"},
      {{"-webSocket=true"}, "takes no value"},
      {{"one"}, "two positional arguments"},
      {{"-secret", "x", "s", "n"}, "both with -secret"},
      {{"-jnlpUrl", "http://h/a.jnlp", "-url", "http://h/"}, "-jnlpUrl cannot be combined"},
      {{"-cert", "@x", "-noCertificateCheck"}, "cannot be combined"},
      {{"-webSocketHeader", "novalue"}, "NAME=VALUE"},
      {{"-url", "http://a/", "-url", "http://b/"}, "exactly one controller URL"},
      {{"--config", "/etc/kite.json", "-url", "http://a/"}, "--config cannot be combined"},
      {{"--ping-interval", "0"}, "1 to 3600"},
      {{"-proxyCredentials", "nopassword"}, "USER:PASSWORD"},
  };
  for (const auto& c : cases) {
    auto cl = parse_agent_args(c.args);
    INFO(c.expected);
    REQUIRE_FALSE(cl);
    CHECK_THAT(cl.error(), Catch::Contains(c.expected));
  }
}

TEST_CASE("controller URLs are normalized") {
  CHECK(normalize_controller_url("https://ci.example.com/jenkins").value() == "https://ci.example.com/jenkins/");
  CHECK(normalize_controller_url("https://ci.example.com/jenkins//").value() == "https://ci.example.com/jenkins/");
  CHECK(normalize_controller_url("http://h:8080").value() == "http://h:8080/");
  CHECK(normalize_controller_url("HTTP://h/").value() == "HTTP://h/");
  CHECK_FALSE(normalize_controller_url("ws://h/"));
  CHECK_FALSE(normalize_controller_url("https:///x"));
  CHECK_FALSE(normalize_controller_url("http://h/?a=b"));
}

TEST_CASE("inbound-agent environment fills what the command line leaves open") {
  auto cl = parse({"-name", "from-cli"});
  REQUIRE(cl);
  apply_environment(*cl, env_of({{"JENKINS_URL", "http://env/"}, {"JENKINS_SECRET", "envsecret"},
                                 {"JENKINS_AGENT_NAME", "env-agent"}, {"JENKINS_WEB_SOCKET", "true"},
                                 {"JENKINS_AGENT_WORKDIR", "/home/jenkins/agent"}}));
  CHECK(cl->url == "http://env/");
  CHECK(cl->secret == "envsecret");
  CHECK(cl->name == "from-cli");
  CHECK(cl->web_socket);
  CHECK(cl->work_dir == "/home/jenkins/agent");
}

TEST_CASE("JENKINS_NAME overrides JENKINS_AGENT_NAME") {
  auto cl = parse({});
  REQUIRE(cl);
  apply_environment(*cl, env_of({{"JENKINS_AGENT_NAME", "a"}, {"JENKINS_NAME", "b"}}));
  CHECK(cl->name == "b");
}

TEST_CASE("TCP-only selections are one clear error") {
  for (const char* variable : {"JENKINS_DIRECT_CONNECTION", "JENKINS_TUNNEL", "JENKINS_PROTOCOLS"}) {
    auto cl = parse({"-url", "http://h/", "-name", "n", "-secret", "s"});
    REQUIRE(cl);
    apply_environment(*cl, env_of({{variable, "host:50000"}}));
    auto config = build_config(*cl);
    INFO(variable);
    REQUIRE_FALSE(config);
    CHECK_THAT(config.error(), Catch::Contains("not implemented in Kite yet"));
  }
  auto web_socket = parse({"-url", "http://h/", "-name", "n", "-secret", "s", "-webSocket"});
  REQUIRE(web_socket);
  apply_environment(*web_socket, env_of({{"JENKINS_TUNNEL", "host:50000"}}));
  CHECK(build_config(*web_socket));
}

TEST_CASE("build_config reads @file secrets and checks requirements") {
  const auto dir = temp_dir("secret");
  write_file(dir / "secret", "  abcdef\n");
  const std::string at_file = "@" + (dir / "secret").string();
  std::vector<std::string_view> args{"-url", "http://h/jenkins", "-name", "n", "-secret", at_file, "-webSocket"};
  auto cl = parse_agent_args(args);
  REQUIRE(cl);
  auto config = build_config(*cl);
  REQUIRE(config);
  CHECK(config->nodes.at(0).secret == "abcdef");
  CHECK(config->nodes.at(0).url == "http://h/jenkins/");

  const std::string missing = "@" + (dir / "missing").string();
  std::vector<std::string_view> bad{"-url", "http://h/", "-name", "n", "-secret", missing};
  auto bad_config = build_config(parse_agent_args(bad).value());
  REQUIRE_FALSE(bad_config);
  CHECK_THAT(bad_config.error(), Catch::Contains("cannot read the secret file"));

  auto no_name = parse({"-url", "http://h/", "-secret", "s"});
  CHECK_THAT(build_config(no_name.value()).error(), Catch::Contains("no agent name"));
  auto internal_only = parse({"-url", "http://h/", "-secret", "s", "-name", "n", "-internalDir", "x"});
  CHECK_THAT(build_config(internal_only.value()).error(), Catch::Contains("-internalDir needs -workDir"));
  fs::remove_all(dir);
}

TEST_CASE("JSON configuration declares several nodes") {
  const auto dir = temp_dir("config");
  write_file(dir / "s1", "secret-one\n");
  const std::string text = R"({
    "logFile": "/var/log/kite/kite.log",
    "logLevel": "debug",
    "nodes": [
      {"url": "https://ci.example.com/jenkins", "name": "builder-1", "secretFile": ")" + (dir / "s1").string() + R"(",
       "workDir": "/var/lib/kite/b1", "labels": ["linux", "arm64"], "sandboxPolicy": "default",
       "webSocketHeaders": {"X-Token": "t"}, "pingIntervalSeconds": 5},
      {"url": "http://other:8080/", "name": "builder-2", "secretEnv": "KITE_SECRET_2", "noReconnect": true}
    ]})";
  auto config = parse_config_text(text, env_of({{"KITE_SECRET_2", "secret-two"}}));
  REQUIRE(config);
  CHECK(config->log_file == "/var/log/kite/kite.log");
  CHECK(config->log_level == "debug");
  REQUIRE(config->nodes.size() == 2);
  const auto& first = config->nodes[0];
  CHECK(first.url == "https://ci.example.com/jenkins/");
  CHECK(first.secret == "secret-one");
  CHECK(first.work_dir == "/var/lib/kite/b1");
  CHECK(first.labels == std::vector<std::string>{"linux", "arm64"});
  CHECK(first.sandbox_policy == "default");
  CHECK(first.websocket_headers.at(0).second == "t");
  CHECK(first.ping_interval == std::chrono::seconds(5));
  CHECK(first.pong_timeout == std::chrono::seconds(5));
  CHECK(config->nodes[1].secret == "secret-two");
  CHECK(config->nodes[1].no_reconnect);
  fs::remove_all(dir);
}

TEST_CASE("JSON configuration errors name the node and key") {
  const auto env = env_of({{"S", "x"}});
  struct Case {
    std::string text;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"{", "invalid JSON"},
      {"[]", "not a JSON object"},
      {R"({"nodes": []})", "non-empty array"},
      {R"({"nodes": [{"url": "http://h/", "name": "a", "secret": "inline"}]})", "must not be written in the file"},
      {R"({"nodes": [{"url": "http://h/", "name": "a", "secretEnv": "S", "colour": 1}]})", "unknown key 'colour'"},
      {R"({"nodes": [{"url": "http://h/", "name": "a"}]})", "no secret"},
      {R"({"nodes": [{"url": "http://h/", "name": "a", "secretEnv": "MISSING"}]})", "'MISSING'"},
      {R"({"nodes": [{"url": "ftp://h/", "name": "a", "secretEnv": "S"}]})", "nodes[0] (a)"},
      {R"({"nodes": [{"url": "http://h/", "name": 5, "secretEnv": "S"}]})", "'name' has the wrong type"},
      {R"({"nodes": [{"url": "http://h/", "name": "a", "secretEnv": "S"}, {"url": "http://h", "name": "a", "secretEnv": "S"}]})", "declared twice"},
      {R"({"nodes": [{"url": "http://h/", "name": "a", "secretEnv": "S"}], "extra": 1})", "unknown top-level key"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto config = parse_config_text(c.text, env);
    REQUIRE_FALSE(config);
    CHECK_THAT(config.error(), Catch::Contains(c.expected));
  }
}

TEST_CASE("work directory layout matches agent.jar") {
  const auto dir = temp_dir("workdir");
  auto layout = initialize_work_dir(dir / "agent", "remoting", false);
  REQUIRE(layout);
  CHECK(fs::is_directory(dir / "agent" / "remoting" / "logs"));
  CHECK(fs::is_directory(dir / "agent" / "remoting" / "jarCache"));

  auto missing = initialize_work_dir(dir / "absent", "remoting", true);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error(), Catch::Contains("does not exist"));
  CHECK_FALSE(fs::exists(dir / "absent"));

  CHECK_FALSE(initialize_work_dir(dir / "agent", "../escape", false));
  fs::remove_all(dir);
}
