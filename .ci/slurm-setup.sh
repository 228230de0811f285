#!/usr/bin/env bash
# Install the SLURM daemons and clients (plus munge) that the octant SLURM integration tests start
# on localhost (see tests/slurm_cluster.py). Idempotent and non-interactive: does nothing when every
# binary is already present. Needs root (apt-get); CI runs as root.
set -euo pipefail

need=(/usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged /usr/bin/sbatch /usr/bin/squeue
      /usr/bin/scontrol /usr/bin/sinfo)
missing=0
for bin in "${need[@]}"; do
    [ -x "$bin" ] || { echo "slurm-setup: missing $bin"; missing=1; }
done
if [ "$missing" -eq 0 ]; then
    echo "slurm-setup: slurmctld, slurmd, slurm-client and munge already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "slurm-setup: run as root (needs apt-get install slurmctld slurmd slurm-client munge)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge
# Packages may try to start services; the test fixture starts its own private daemons instead.
for bin in "${need[@]}"; do
    [ -x "$bin" ] || { echo "slurm-setup: $bin still missing after apt-get install" >&2; exit 1; }
done
echo "slurm-setup: installed slurmctld slurmd slurm-client munge"
