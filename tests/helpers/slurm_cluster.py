"""A real single-node Slurm cluster for the tests: Debian's munge, slurmctld
and slurmd, started with a minimal slurm.conf (one CPU node, no GPUs) in a
folder of the test's, and stopped afterwards. `.ci/run` installs the packages;
where they are missing or cannot start, `start` says why and the tests skip.
"""
import os
import shutil
import socket
import subprocess
import time

CONF = """ClusterName=octest
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=600
MpiDefault=none
NodeName={host} CPUs={cpus} RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class SlurmCluster:

    def __init__(self, folder):
        self.dir = str(folder)
        self.conf = os.path.join(self.dir, 'slurm.conf')
        self.env = {**os.environ, 'SLURM_CONF': self.conf}

    def start(self):
        """Start the daemons; returns None, or why the cluster cannot run."""
        missing = [b for b in ('munged', 'slurmctld', 'slurmd', 'sbatch')
                   if not shutil.which(b)]
        if missing:
            return (f'Slurm is not installed ({", ".join(missing)} missing); '
                    'apt-get install slurmctld slurmd slurm-client munge')
        if os.geteuid() != 0:
            return 'starting slurmd needs root'
        for sub in ('state', 'spool'):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        host = socket.gethostname().split('.')[0]
        with open(self.conf, 'w') as f:
            f.write(CONF.format(host=host, dir=self.dir, ctld_port=_free_port(),
                                d_port=_free_port(), cpus=os.cpu_count() or 1))
        if subprocess.run('munge -n | unmunge', shell=True,
                          capture_output=True).returncode:
            os.makedirs('/run/munge', exist_ok=True)
            subprocess.run(['munged', '--force'], capture_output=True)
        for daemon in ('slurmctld', 'slurmd'):
            proc = subprocess.run([daemon], env=self.env, capture_output=True,
                                  text=True)
            if proc.returncode:
                return f'{daemon} did not start: {proc.stderr.strip()[:200]}'
        deadline = time.time() + 30
        while time.time() < deadline:
            out = self.run('sinfo', '-h', '-o', '%T').stdout
            if 'idle' in out:
                return None
            time.sleep(0.5)
        return 'the Slurm node did not become idle in 30 s'

    def run(self, *cmd):
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True)

    def jobs(self):
        """Job ids in the queue (pending or running)."""
        return self.run('squeue', '-h', '-o', '%i').stdout.split()

    def stop(self):
        self.run('scancel', '--user=root')
        for name in ('slurmd', 'slurmctld'):
            try:
                with open(os.path.join(self.dir, f'{name}.pid')) as f:
                    pid = int(f.read())
                os.kill(pid, 15)
            except (OSError, ValueError):
                pass
