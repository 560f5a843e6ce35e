// hudson.EnvVars and Util.replaceMacro semantics, case by case.
#include <catch2/catch.hpp>

#include "runner/launcher/envvars.hpp"

using kite::launcher::EnvVars;
using kite::launcher::replace_macro;

namespace {

EnvVars make(std::initializer_list<std::pair<const char*, const char*>> entries) {
  EnvVars env;
  for (const auto& [key, value] : entries) env.put(key, value);
  return env;
}

std::optional<std::string> lookup(const EnvVars& env, const char* key) { return env.get(key); }

}  // namespace

TEST_CASE("replace_macro expands references", "[envvars]") {
  const EnvVars env = make({{"A", "alpha"}, {"B_1", "beta"}, {"X", "$Y"}, {"Y", "why"}, {"a.b", "dotted"}});
  auto expand = [&](const char* text) { return env.expand(text); };

  CHECK(expand("$A") == "alpha");
  CHECK(expand("${A}") == "alpha");
  CHECK(expand("x$A-y") == "xalpha-y");
  CHECK(expand("$B_1$A") == "betaalpha");
  CHECK(expand("$a") == "alpha");               // lookups ignore case
  CHECK(expand("$NOPE and ${NOPE}") == "$NOPE and ${NOPE}");
  CHECK(expand("$$A") == "$A");                 // $$ is a literal dollar, not rescanned
  CHECK(expand("$$$A") == "$alpha");
  CHECK(expand("cost: 5$") == "cost: 5$");
  CHECK(expand("${A") == "${A");                // unterminated brace stays
  CHECK(expand("${}") == "${}");
  CHECK(expand("${a.b}") == "dotted");          // '.' only inside braces
  CHECK(expand("$a.b") == "alpha.b");
  CHECK(expand("$X") == "$Y");                  // replaced text is not expanded again
  CHECK(expand("$A$") == "alpha$");
  CHECK(expand("") == "");
}

TEST_CASE("replace_macro reports names to the resolver", "[envvars]") {
  std::vector<std::string> seen;
  auto result = replace_macro("${ONE} $TWO $$THREE ${four.x}", [&](const std::string& name) -> std::optional<std::string> {
    seen.push_back(name);
    return std::nullopt;
  });
  CHECK(result == "${ONE} $TWO $THREE ${four.x}");
  CHECK(seen == std::vector<std::string>{"ONE", "TWO", "four.x"});
}

TEST_CASE("EnvVars keys are case-insensitive", "[envvars]") {
  EnvVars env = make({{"Path", "/usr/bin"}});
  env.put("PATH", "/bin");
  REQUIRE(env.size() == 1);
  CHECK(env.entries().begin()->first == "Path");  // first spelling stays, as in TreeMap.put
  CHECK(lookup(env, "path") == "/bin");
  env.remove("PATH");
  CHECK(env.size() == 0);
}

TEST_CASE("override handles removal and PATH+X", "[envvars]") {
  EnvVars env = make({{"PATH", "/usr/bin"}, {"HOME", "/home/a"}});
  env.override_one("HOME", "");
  CHECK_FALSE(env.contains("HOME"));

  env.override_one("PATH+MAVEN", "/opt/maven/bin");
  CHECK(lookup(env, "PATH") == "/opt/maven/bin:/usr/bin");
  CHECK_FALSE(env.contains("PATH+MAVEN"));

  env.override_one("path+JDK", "/opt/jdk/bin");
  CHECK(lookup(env, "PATH") == "/opt/jdk/bin:/opt/maven/bin:/usr/bin");

  env.override_one("LD_LIBRARY_PATH+X", "/opt/lib");  // absent target: set as is
  CHECK(lookup(env, "LD_LIBRARY_PATH") == "/opt/lib");

  env.override_one("+LEADING", "v");  // '+' at index 0 is part of the name
  CHECK(lookup(env, "+LEADING") == "v");
}

TEST_CASE("override order follows references", "[envvars]") {
  const EnvVars target;
  struct Case {
    const char* name;
    std::vector<std::pair<const char*, const char*>> overrides;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"simple",
       {{"A", "NoReference"}, {"A+B", "NoReference"}, {"B", "Refer1${A}"}, {"C", "Refer2${B}"}, {"D", "Refer3${B}${Nosuch}"}},
       {"A", "B", "C", "D", "A+B"}},
      {"reverse alphabetical", {{"A", "${B}"}, {"B", "${C}"}, {"C", "x"}}, {"C", "B", "A"}},
      {"diamond", {{"A", "x"}, {"B", "${A}"}, {"C", "${A}${B}"}}, {"A", "B", "C"}},
      {"cycle without existing variables", {{"A", "${B}"}, {"B", "${C}"}, {"C", "${A}"}}, {"C", "B", "A"}},
      {"self reference is no edge", {{"PATH", "/x:${PATH}"}, {"A", "${PATH}"}}, {"PATH", "A"}},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      EnvVars overrides;
      for (const auto& [key, value] : c.overrides) overrides.put(key, value);
      CHECK(target.override_order(overrides) == c.expected);
    }
  }
}

TEST_CASE("override order cuts a cycle at an existing variable", "[envvars]") {
  const EnvVars target = make({{"C", "Existing"}});
  const EnvVars overrides = make({{"A", "${B}"}, {"B", "${C}"}, {"C", "${A}"}});
  CHECK(target.override_order(overrides) == std::vector<std::string>{"B", "A", "C"});

  EnvVars env = target;
  env.override_expanding_all(overrides);
  CHECK(lookup(env, "A") == "Existing");
  CHECK(lookup(env, "B") == "Existing");
  CHECK(lookup(env, "C") == "Existing");
}

TEST_CASE("override_expanding_all builds the job environment", "[envvars]") {
  EnvVars env = make({{"PATH", "/usr/bin:/bin"}, {"HOME", "/home/agent"}, {"LANG", "C.UTF-8"}});
  const EnvVars overrides = make({
      {"WORKSPACE", "${HOME}/ws/${JOB_NAME}"},
      {"JOB_NAME", "app"},
      {"PATH+TOOLS", "${WORKSPACE}/bin"},
      {"LANG", ""},
      {"MESSAGE", "cost $$5 in ${WORKSPACE}"},
      {"path", "/opt/bin:$PATH"},
  });
  env.override_expanding_all(overrides);

  CHECK(lookup(env, "WORKSPACE") == "/home/agent/ws/app");
  CHECK(lookup(env, "PATH") == "/home/agent/ws/app/bin:/opt/bin:/usr/bin:/bin");
  CHECK(env.entries().find("PATH")->first == "PATH");
  CHECK_FALSE(env.contains("LANG"));
  CHECK(lookup(env, "MESSAGE") == "cost $5 in /home/agent/ws/app");
}

TEST_CASE("from_assignments splits at the first '='", "[envvars]") {
  auto env = EnvVars::from_assignments({"A=1=2", "B=", "a=3", "=empty"});
  REQUIRE(env.has_value());
  CHECK(lookup(*env, "A") == "3");
  CHECK(lookup(*env, "B") == "");
  CHECK(lookup(*env, "") == "empty");

  auto bad = EnvVars::from_assignments({"NOEQUALS"});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("NOEQUALS") != std::string::npos);
}

TEST_CASE("from_environ skips malformed entries", "[envvars]") {
  const char* environ_entries[] = {"A=1", "=hidden", "plain", "B=x=y", "a=second", nullptr};
  EnvVars env = EnvVars::from_environ(environ_entries);
  CHECK(env.size() == 2);
  CHECK(lookup(env, "A") == "1");
  CHECK(lookup(env, "B") == "x=y");
  CHECK(env.to_assignments() == std::vector<std::string>{"A=1", "B=x=y"});
}

TEST_CASE("durable wrapper command survives expansion", "[envvars]") {
  // BourneShellScript doubles every '$' so that the agent's expansion restores it.
  const EnvVars env = make({{"JENKINS_SERVER_COOKIE", "please-do-not-kill-me"}});
  CHECK(env.expand("jsc=durable-1; JENKINS_SERVER_COOKIE=$$jsc sh; echo $$? > r") ==
        "jsc=durable-1; JENKINS_SERVER_COOKIE=$jsc sh; echo $? > r");
}
