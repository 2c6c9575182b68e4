#!/usr/bin/env bash
# Install what Stratus needs to build and test on Debian 12. Idempotent.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libyaml-dev libjansson-dev libcmocka-dev libsqlite3-dev libpq-dev postgresql libcurl4-openssl-dev libglpk-dev libevent-dev libhttp-parser-dev libssl-dev clang wrk prometheus)
pkgs+=(nginx) # bench/bench_router.sh measures `stratus router` against it
# `ip`: the local clouds give replicas that listen on a fixed port a network
# namespace each (src/driver/local_net.c); Debian installs it by default
# (priority important), minimal container images do not
pkgs+=(iproute2)
pkgs+=(libxml2-utils) # xmllint: the simulator's SVG charts are checked well-formed
pkgs+=(chromium) # tests/cli/test_dashboard.sh loads the dashboard in a headless browser
pkgs+=(python3) # the black-box tests, the example model server and the load clients (standard library only)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
