#!/usr/bin/env bash
# Installs the Debian packages the tests use when they are missing (CI machines start bare; we are root there).
set -euo pipefail
need=()
command -v etcd >/dev/null || need+=(etcd-server)
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v nft >/dev/null || [ -x /usr/sbin/nft ] || need+=(nftables)
command -v ip >/dev/null || [ -x /usr/sbin/ip ] || need+=(iproute2)
command -v tmux >/dev/null || need+=(tmux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing packages: ${need[*]} (run as root to install them)" >&2; exit 1; fi
  echo "installing ${need[*]}…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
