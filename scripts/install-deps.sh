#!/bin/sh
# Install every Debian 12 package that vigil's build, tests, benchmarks and
# demo need.  Run as root on a fresh machine; safe to run again.
set -eu

BUILD="build-essential autoconf automake libtool libltdl-dev pkg-config
 libconfig-dev libssl-dev libpcap-dev libcunit1-dev libjansson-dev"
TEST="python3 jq iproute2 iptables procps psmisc iputils-ping netcat-openbsd openssl
 tcpdump tshark socat valgrind clang libclang-rt-14-dev stress-ng"
PEERS="resource-agents fence-agents openipmi ipmitool libnbd-bin nbdkit fio
 qemu-utils corosync pacemaker-cli-utils keepalived abigail-tools"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root (apt-get install needs it)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: they may not.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get -o DPkg::Lock::Timeout=300 update -qq
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=300 install -y -qq $BUILD $TEST $PEERS >/dev/null
# corosync and keepalived come with services enabled: vigil's tests start
# their own instances in namespaces, never the system ones.
for svc in corosync keepalived; do
	systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
echo "install-deps: done"
