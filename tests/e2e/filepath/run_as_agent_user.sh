#!/bin/sh
# Starts the kite under test ($KITE_UNDER_TEST) with the arguments given. File
# modes do not stop root, so when this runs as root the agent is started as
# uid and gid 65534 (nobody) with setpriv, after handing it its -workDir and
# letting it into its working directory (tests/channel/run_scenario.py creates
# both as root with mode 0700). The executable is copied there first, because
# uid 65534 may not be able to reach the build directory (a checkout under
# /root, for one). As any other user kite runs unchanged.
set -eu
kite=${KITE_UNDER_TEST:?KITE_UNDER_TEST must name the kite executable}
if [ "$(id -u)" != 0 ]; then
  exec "$kite" "$@"
fi
work=
previous=
for argument in "$@"; do
  if [ "$previous" = -workDir ]; then
    work=$argument
  fi
  previous=$argument
done
if [ -n "$work" ]; then
  chown -R 65534:65534 "$work"
fi
chmod o+x "$PWD"
copy="$PWD/kite-as-uid-65534"
cp "$kite" "$copy"
chmod 0755 "$copy"
exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$copy" "$@"
