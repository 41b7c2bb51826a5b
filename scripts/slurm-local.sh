#!/usr/bin/env bash
# A real single-node Slurm on this machine, for perfpilot's Slurm tests and
# for trying `perfpilot run --executor slurm` without a cluster.
#
#   scripts/slurm-local.sh start    install (Debian's slurm-wlm and munge) if
#                                   missing, configure, start, wait for idle
#                                   nodes; prints the SLURM_CONF to export
#   scripts/slurm-local.sh stop     stop the daemons it started
#   scripts/slurm-local.sh status   sinfo, or exit 1 when not running
#
# Two partitions stand for two hardware types: "cpu" and "gpu" (the same
# node; it declares two stand-in a100 GPUs as generic resources so --gres works).
# Everything lives under $PERFPILOT_SLURM_DIR (default /var/tmp/perfpilot-slurm);
# /etc/slurm is left alone, so clients need SLURM_CONF=<dir>/slurm.conf.
# Needs root (munged runs as the munge user, the Slurm daemons as root).
set -euo pipefail

DIR=${PERFPILOT_SLURM_DIR:-/var/tmp/perfpilot-slurm}
CONF=$DIR/slurm.conf
export SLURM_CONF=$CONF

die() { echo "slurm-local: $*" >&2; exit 1; }

install_packages() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null && return
  command -v apt-get >/dev/null || die "slurm-wlm and munge are missing and there is no apt-get to install them"
  echo "slurm-local: installing slurm-wlm and munge" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; } ||
    die "could not install slurm-wlm and munge"
}

write_conf() {
  local host cpus
  host=$(hostname -s)
  # More CPUs than the machine has (config_overrides) so a whole test array
  # runs at once; the benchmarks used in tests are small.
  cpus=8
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  cat >"$CONF.tmp" <<EOF
# Written by scripts/slurm-local.sh: one node, two partitions.
ClusterName=perfpilot
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmdParameters=config_overrides
GresTypes=gpu
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
MinJobAge=600
KillWait=2
InactiveLimit=0
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1000 Gres=gpu:a100:2 State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
  mv "$CONF.tmp" "$CONF"
  # slurmd drops file-less GPUs; with task/none nothing confines devices, so
  # two harmless character devices stand for the two GPUs.
  echo "NodeName=$host Name=gpu Type=a100 File=/dev/null,/dev/zero" >"$DIR/gres.conf"
  # cgroup.conf is read by slurmd even with proctrack/linuxproc.
  echo "CgroupPlugin=autodetect" >"$DIR/cgroup.conf"
}

running() { sinfo -h -o '%t' >/dev/null 2>&1; }

idle() { [ -n "$(sinfo -h -o '%t' 2>/dev/null | grep -E '^(idle|mix|alloc)' || true)" ]; }

start() {
  [ "$(id -u)" -eq 0 ] || die "needs root (to start munged and the Slurm daemons)"
  install_packages
  mkdir -p "$DIR"
  # One start at a time (parallel test packages may call it). The daemons
  # must not inherit the lock's descriptor (9>&- below), or it is never freed.
  exec 9>"$DIR/lock"
  flock -w 120 9 || die "another slurm-local.sh start holds $DIR/lock"
  if idle; then echo "$CONF"; return; fi
  write_conf

  if ! pgrep -u munge -x munged >/dev/null; then
    [ -s /etc/munge/munge.key ] || { /usr/sbin/mungekey -c -f -k /etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 status=none; }
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged --force 9>&-
    touch "$DIR/munged.ours"
  fi
  for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n </dev/null >/dev/null 2>&1 || die "munged did not start"

  if ! [ -s "$DIR/slurmctld.pid" ] || ! kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null; then
    /usr/sbin/slurmctld -f "$CONF" -i 9>&- || die "slurmctld did not start: $(tail -n 5 "$DIR/log/slurmctld.log" 2>/dev/null)"
  fi
  for _ in $(seq 100); do running && break; sleep 0.1; done
  if ! [ -s "$DIR/slurmd.pid" ] || ! kill -0 "$(cat "$DIR/slurmd.pid")" 2>/dev/null; then
    /usr/sbin/slurmd -f "$CONF" 9>&- || die "slurmd did not start: $(tail -n 5 "$DIR/log/slurmd.log" 2>/dev/null)"
  fi
  for _ in $(seq 300); do
    if idle; then echo "$CONF"; return; fi
    # A node left DOWN by an earlier, unclean stop comes back here.
    scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
    sleep 0.1
  done
  sinfo >&2 || true
  tail -n 5 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
  die "the node did not become idle within 30 s"
}

stop() {
  local f pid
  for f in slurmd slurmctld; do
    if [ -s "$DIR/$f.pid" ]; then
      pid=$(cat "$DIR/$f.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$DIR/$f.pid"
    fi
  done
  if [ -e "$DIR/munged.ours" ]; then
    pid=$(pgrep -u munge -x munged || true)
    [ -z "$pid" ] || kill $pid 2>/dev/null || true
    rm -f "$DIR/munged.ours"
  fi
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
status) running && sinfo ;;
*) die "usage: $0 start|stop|status" ;;
esac
