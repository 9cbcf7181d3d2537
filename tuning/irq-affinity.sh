#!/usr/bin/env bash
# Steers a network interface's IRQs to the given CPUs (default: CPU 0), so
# the CPUs running DiskDB shards are not interrupted by packet processing.
#   tuning/irq-affinity.sh eth0 [cpu-list]
set -euo pipefail
dev=${1:?usage: tuning/irq-affinity.sh IFACE [cpu-list]}
cpus=${2:-0}
[ -d "/sys/class/net/$dev" ] || { echo "irq-affinity: no interface $dev" >&2; exit 1; }
n=0
for irq in $(grep -E "$dev" /proc/interrupts | cut -d: -f1 | tr -d ' '); do
  echo "$cpus" > "/proc/irq/$irq/smp_affinity_list"
  n=$((n + 1))
done
echo "irq-affinity: $n IRQs of $dev now on CPUs $cpus"
[ "$n" -gt 0 ] || echo "irq-affinity: no IRQs found for $dev (virtio and some drivers name them differently)" >&2
