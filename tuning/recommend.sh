#!/usr/bin/env bash
# Inspects this machine (CPUs, NUMA nodes, memory, ulimit -l/-n, transparent
# huge pages, somaxconn, the NIC's IRQs) and prints recommended DiskDB
# settings and kernel settings, each with a one-line reason. Reads only;
# changes nothing. The rules are those of tuning/README.md.
#
#   tuning/recommend.sh [network-interface]   # default: the default route's
set -euo pipefail

mb() { echo "$(( $1 / 1048576 ))MB"; }
say() { printf "  %-44s # %s\n" "$1" "$2"; }

# --- what the machine has ---------------------------------------------------
cpus=$(nproc)
nodes=$(find /sys/devices/system/node -maxdepth 1 -name 'node[0-9]*' 2>/dev/null | wc -l)
[ "$nodes" -ge 1 ] || nodes=1
mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
mem=$(( mem_kb * 1024 ))
memlock=$(ulimit -l)
nofile=$(ulimit -n)
thp=unknown
if [ -r /sys/kernel/mm/transparent_hugepage/enabled ]; then
  thp=$(sed -E 's/.*\[(.*)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled)
fi
somaxconn=$(cat /proc/sys/net/core/somaxconn 2>/dev/null || echo unknown)
syn_backlog=$(cat /proc/sys/net/ipv4/tcp_max_syn_backlog 2>/dev/null || echo unknown)
swappiness=$(cat /proc/sys/vm/swappiness 2>/dev/null || echo unknown)
dev=${1:-$(awk '$2 == "00000000" {print $1; exit}' /proc/net/route 2>/dev/null || true)}
irqs=""
if [ -n "$dev" ] && [ -d "/sys/class/net/$dev" ]; then
  # IRQs are named after the interface (most drivers) or its virtio device.
  names=$dev
  if [ -e "/sys/class/net/$dev/device" ]; then
    names="$dev|$(basename "$(readlink -f "/sys/class/net/$dev/device")")-"
  fi
  irqs=$(grep -E "$names" /proc/interrupts | cut -d: -f1 | tr -d ' ' | paste -sd, - || true)
fi

echo "machine: $cpus CPUs, $nodes NUMA node(s), $(mb "$mem") RAM, ulimit -l $memlock, ulimit -n $nofile,"
echo "         THP $thp, somaxconn $somaxconn, tcp_max_syn_backlog $syn_backlog, swappiness $swappiness,"
echo "         NIC ${dev:-none found}${irqs:+ (IRQs $irqs)}"
echo

# --- DiskDB settings ----------------------------------------------------------
shards=$cpus
taskset=""
if [ "$cpus" -gt 8 ] && [ -n "$irqs" ]; then
  shards=$(( cpus - nodes ))
  taskset="taskset -c $nodes-$(( cpus - 1 )) "
fi
block=$(( mem * 30 / 100 ))
hot=$(( mem * 10 / 100 ))
wb=$(( 64 * 1048576 * shards ))
[ "$wb" -le $(( block / 3 )) ] || wb=$(( block / 3 ))
log=$(( wb * 3 ))

echo "diskdb:"
echo "  ${taskset}diskdb --shards $shards --block-cache-size $(mb $block) --hot-cache-size $(mb $hot) --write-buffer-size $(mb $wb)"
if [ -n "$taskset" ]; then
  say "--shards $shards, CPUs $nodes-$(( cpus - 1 ))" "one shard per core, leaving core(s) 0-$(( nodes - 1 )) for the NIC's IRQs"
else
  say "--shards $shards" "one shard (executor + RocksDB) per core"
fi
say "(--pin-shards yes)" "only if these cores run nothing but DiskDB (clients elsewhere); unpinned by default so a woken shard can leave a busy CPU"
say "(--batch-scheduling yes)" "only if clients run on these cores too: fewer preemptions at -P 1, a higher p99 with deep pipelines"
say "--block-cache-size $(mb $block)" "~30% of RAM for uncompressed blocks of all shards, memtables included"
say "--hot-cache-size $(mb $hot)" "~10% of RAM for decoded hot keys, split between shards"
say "--write-buffer-size $(mb $wb)" "64 MB of memtables per shard, at most a third of the block cache"
echo "  diskdb.conf, persistence: section"
say "max_log_size: $(mb $log)" "3 × write_buffer_size: WAL size that forces a flush"
if [ "$nodes" -gt 1 ]; then
  say "(one diskdb per NUMA node, or numactl --interleave=all)" "$nodes NUMA nodes: keep each shard's memory near its core"
fi
echo

# --- limits and kernel ----------------------------------------------------------
echo "limits (systemd unit: LimitMEMLOCK=infinity, LimitNOFILE=65536):"
if [ "$memlock" != unlimited ] && [ "$memlock" -lt $(( 10240 * shards )) ]; then
  say "ulimit -l unlimited" "now $memlock KiB: io_uring wants >= 10 MiB locked per shard ($(( 10 * shards )) MiB)"
else
  say "ulimit -l ok ($memlock)" "io_uring's locked buffers fit"
fi
if [ "$nofile" != unlimited ] && [ "$nofile" -lt 65536 ]; then
  say "ulimit -n 65536" "now $nofile: up to two descriptors per client plus RocksDB's SST files"
else
  say "ulimit -n ok ($nofile)" "enough descriptors for clients and SST files"
fi
echo
echo "sysctls (tuning/sysctl.conf → /etc/sysctl.d/90-diskdb.conf):"
if [ "$somaxconn" = unknown ] || [ "$somaxconn" -lt 4096 ]; then
  say "net.core.somaxconn = 4096" "now $somaxconn: accept queue for connection bursts"
else
  say "net.core.somaxconn ok ($somaxconn)" "accept queue large enough"
fi
if [ "$syn_backlog" = unknown ] || [ "$syn_backlog" -lt 4096 ]; then
  say "net.ipv4.tcp_max_syn_backlog = 4096" "now $syn_backlog: half-open connections during bursts"
else
  say "net.ipv4.tcp_max_syn_backlog ok ($syn_backlog)" "SYN backlog large enough"
fi
say "vm.dirty_background_ratio = 5" "start writeback early so RocksDB flushes do not stall"
say "vm.dirty_ratio = 20" "bound dirty pages a flush may have to wait for"
if [ "$swappiness" = unknown ] || [ "$swappiness" -gt 1 ]; then
  say "vm.swappiness = 1" "now $swappiness: keep the block cache out of swap"
else
  say "vm.swappiness ok ($swappiness)" "block cache stays in RAM"
fi
case $thp in
  always) say "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled" "THP always: RocksDB advises madvise or never (latency spikes, RSS bloat)";;
  madvise|never) say "transparent hugepages ok ($thp)" "as RocksDB advises";;
  *) say "transparent hugepages: madvise or never" "could not read the setting";;
esac
if [ -n "$irqs" ]; then
  if [ -n "$taskset" ]; then
    say "tuning/irq-affinity.sh $dev 0-$(( nodes - 1 ))" "keep packet processing off the shard cores"
  else
    say "(IRQ affinity: leave as is)" "$cpus CPUs: every core runs a shard; steering IRQs only pays off above 8 cores"
  fi
fi
