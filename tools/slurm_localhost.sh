#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the Slurm integration test (`make test-slurm`).
#
#   tools/slurm_localhost.sh          install (Debian packages), configure, start, wait for idle
#   tools/slurm_localhost.sh stop     stop the daemons this script started
#
# Needs root and Debian's apt. Idempotent: a running cluster is left as it is. An existing
# /etc/slurm/slurm.conf that this script did not write is never overwritten, so it cannot
# clobber a real cluster's configuration.
#
# No slurmdbd: without accounting storage `sacct` has nothing to report, so the test asks
# the executor plugin for `squeue` status checks, and MinJobAge keeps finished jobs visible
# to squeue for long enough (the plugin wants MinJobAge >= 3x its first-check delay).
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by crlmflow tools/slurm_localhost.sh"
PIDS=(/run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid)

if [[ $(id -u) -ne 0 ]]; then
    echo "slurm_localhost.sh: must run as root (installs packages, starts daemons)" >&2
    exit 1
fi

ours() {
    [[ -e $CONF ]] && grep -qF "$MARK" "$CONF"
}

if [[ ${1:-} == stop ]]; then
    ours || { echo "slurm_localhost.sh: $CONF is not ours; not stopping anything" >&2; exit 1; }
    for pidfile in "${PIDS[@]}"; do
        [[ -s $pidfile ]] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        # a stale slurmctld.pid makes the package's prerm try to scancel (and fail)
        rm -f "$pidfile"
    done
    exit 0
fi

host=$(hostname -s)

node_state() {
    sinfo -h -N -n "$host" -o %T 2>/dev/null | head -1 || true
}

running() {
    [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

if [[ $(node_state) == idle* ]] && running /run/slurmctld.pid && running /run/slurmd.pid; then
    echo "slurm_localhost.sh: node $host already idle"
    exit 0
fi

if [[ -e $CONF ]] && ! ours; then
    if sinfo >/dev/null 2>&1; then
        echo "slurm_localhost.sh: $CONF is not ours; using the cluster it describes"
        exit 0
    fi
    echo "slurm_localhost.sh: $CONF exists, was not written by this script, and no" \
        "controller answers; not touching it" >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    # policy-rc.d may forbid starting services at install time; they are started below.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurmctld slurmd slurm-client munge >/dev/null
fi

# -- munge: slurm's authentication --
if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --keyfile=/etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
if ! running /run/munge/munged.pid; then
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
fi
for _ in $(seq 50); do
    munge -n </dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.2
done

# -- slurm.conf --
cpus=$(nproc)
# what slurmd detects; configuring more makes slurmd drain the node
mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
install -d -m 0755 /etc/slurm
cat >"$CONF" <<EOF
$MARK
# Single-node cluster on localhost for tests. No cgroup plugins: containers and VMs
# often have no usable cgroups.
ClusterName=localhost
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
SlurmUser=slurm
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# finished jobs stay visible to squeue (the plugin's status check) for 10 minutes
MinJobAge=600
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
# Every snakemake start loads the Slurm plugin, which asks the controller for its config;
# with the daemons stopped each client waits about MessageTimeout - 1 s (default 10 s,
# which slowed every snakemake call of the test suite). Replies on localhost take ms.
MessageTimeout=3
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
install -d -o slurm -g slurm -m 0755 /var/lib/slurm/slurmctld /var/log/slurm
install -d -m 0755 /var/lib/slurm/slurmd

if ! running /run/slurmctld.pid; then
    # -c: start from a clean state (no jobs or node states left from an earlier run)
    slurmctld -c
fi
if ! running /run/slurmd.pid; then
    slurmd
fi

for _ in $(seq 60); do
    state=$(node_state)
    case $state in
        idle*) echo "slurm_localhost.sh: node $host idle in partition debug"; sinfo; exit 0 ;;
        down* | drain*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
    esac
    sleep 1
done
echo "slurm_localhost.sh: node $host not idle after 60 s (state: ${state:-none})" >&2
tail -20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
