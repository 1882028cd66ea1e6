#!/usr/bin/env bash
# Starts a one-node SLURM cluster on this machine, as root: munged, slurmctld and slurmd, with this
# host as the only node and one partition ("local"). The SLURM tests (tests/experiments/slurm_test.ts)
# and `deno task reproduce ... --slurm --submit` can then run against it. Installs Debian's
# slurm-wlm and munge when they are missing. Safe to run again: it restarts the daemons.
#
#   sudo scripts/slurm_local_cluster.sh          start (or restart) the cluster
#   sudo scripts/slurm_local_cluster.sh stop     stop it
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/slurm_local_cluster.sh must run as root (it starts system daemons)" >&2
  exit 1
fi

stop() {
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
  pkill -x munged 2>/dev/null || true
  sleep 1
}

if [ "${1:-start}" = "stop" ]; then
  stop
  exit 0
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  echo "installing slurm-wlm and munge from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurm-wlm munge >/dev/null
fi

stop
host=$(hostname -s)
# The node's CPUs and memory as slurmd itself detects them, so the node registers as healthy.
node=$(slurmd -C | head -n 1 | sed -E "s/^NodeName=[^ ]+/NodeName=$host NodeAddr=127.0.0.1/")

mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat >/etc/slurm/slurm.conf <<EOF
# One-node cluster written by scripts/slurm_local_cluster.sh
ClusterName=mbrl-local
# Addresses given, so the cluster works where the host name does not resolve.
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# Start a dependent job as soon as what it waits for has finished, not at the next periodic pass.
SchedulerParameters=sched_min_interval=100000
KillWait=5
$node State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
runuser -u munge -- munged --force

slurmctld
slurmd

# Wait until the node takes jobs.
for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    sinfo
    exit 0
  fi
  sleep 0.5
done
echo "the SLURM node did not come up; see /var/log/slurm/slurmctld.log and slurmd.log" >&2
sinfo >&2 || true
exit 1
