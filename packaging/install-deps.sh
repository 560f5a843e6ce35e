#!/usr/bin/env bash
# Install what building and testing Kite needs on Debian 12 (bookworm) or newer.
# The product needs only the libraries; the JDK and Node.js serve the tests
# (serialization oracle, test controller, independent WebSocket peers).
set -euo pipefail

packages=(
  meson ninja-build g++ pkg-config
  libuv1-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev
  libarchive-dev libseccomp-dev libspdlog-dev catch2
  openjdk-17-jdk-headless nodejs npm
  ca-certificates openssl curl iproute2 procps python3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js may come from another source than Debian's package; any node and npm on PATH will do.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi

if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
