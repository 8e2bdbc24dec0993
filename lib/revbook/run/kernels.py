"""Kernels for scheduled runs, forked from a warm parent instead of started from scratch.

A fresh ipykernel spends about 3 s of a report's 5 importing pandas, matplotlib, seaborn,
statsmodels and revbook. The runner instead starts one *kernel parent* per worker
(`python -m revbook.run.kernels`), which imports them once and then forks a child for each notebook.
The child becomes an ordinary ipykernel on the connection file jupyter_client wrote, so every
report still runs in its own clean process; only the imports are shared (copy-on-write).

`ForkedKernelManager` is the jupyter_client side: it asks the parent for a child instead of
spawning the kernelspec's command, talks to it over IPC sockets (no TCP ports, no "running over
TCP" warning), and records the kernel's peak resident memory when it shuts down. JupyterLab is
untouched: it starts kernels from the kernelspec as usual.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import pkgutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import default

#: Imported once in the kernel parent: what the report notebooks import, heaviest first (and every
#: module of revbook.departments and revbook.pages, `report_modules`).
PRELOAD = (
    "statsmodels.api", "statsmodels.formula.api", "scipy.stats", "seaborn", "matplotlib.pyplot",
    "matplotlib_fontja", "matplotlib_inline.backend_inline", "pandas", "duckdb", "sqlglot",
    "revbook.data.engines", "revbook.data.roster", "revbook.delivery.notify", "revbook.metrics", "revbook.periods",
    "revbook.settings", "pyarrow.pandas_compat", "ipykernel.kernelapp",
)
PR_SET_PDEATHSIG = 1  # prctl(2)
#: The inline backend ipykernel would choose; it must be set before matplotlib is imported.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


class KernelParentError(RuntimeError):
    """The kernel parent could not start or fork a kernel."""


class KernelParent:
    """A `python -m revbook.run.kernels` process with the heavy imports done, forking kernels on request.
    It exits when its stdin closes, i.e. when the worker that started it goes away."""

    def __init__(self) -> None:
        # one BLAS thread per kernel: the runner already runs one kernel per core
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        command = [sys.executable, "-m", "revbook.run.kernels", str(os.getpid())]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
                                        bufsize=1)
        self._ready = False

    def _gone(self) -> KernelParentError:
        return KernelParentError(f"the kernel parent exited (status {self.process.wait()}); see the run log")

    def _reply(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise self._gone()
        return json.loads(line)

    def fork(self, argv: list[str], env: dict[str, str], cwd: str) -> int:
        """Pid of a new kernel running ipykernel with `argv`, environment `env`, in `cwd`."""
        if not self._ready:
            self._reply()  # {"ready": …}: the imports are done
            self._ready = True
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps({"argv": argv, "env": env, "cwd": cwd}) + "\n")
        except OSError:  # the pipe is closed: the parent is gone
            raise self._gone() from None
        reply = self._reply()
        if "error" in reply:
            raise KernelParentError(f"the kernel parent could not start a kernel: {reply['error']}")
        return int(reply["pid"])

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait()


class _Child:
    """The subprocess.Popen surface jupyter_client uses, for a kernel that is not our own child
    (the kernel parent reaps it): alive while its pid exists."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        # jupyter_client only waits once poll() says the kernel has gone
        return self.poll() or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def peak_rss(pid: int) -> int | None:
    """A process's peak resident set size in bytes (VmHWM), None if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


class ForkedKernelManager(AsyncKernelManager):
    """Starts each kernel as a fork of `parent` (set per worker) over IPC; the kernel's peak RSS is
    kept in `peaks` when it shuts down."""

    parent_process: KernelParent | None = None
    peaks: list[int] = []

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"

    @default("ip")
    def _ip_default(self) -> str:  # socket files, one prefix per worker (its kernels run one at a time)
        return os.path.join(tempfile.gettempdir(), f"revbook-kernel-{os.getpid()}")

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        parent = type(self).parent_process
        if parent is None or "ipykernel_launcher" not in kernel_cmd:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        assert self.provisioner is not None
        argv = kernel_cmd[kernel_cmd.index("ipykernel_launcher") + 1:]
        try:
            pid = parent.fork(argv, dict(kw.get("env") or os.environ), str(kw.get("cwd") or os.getcwd()))
        except KernelParentError as exc:  # a report must not fail for it: start kernels the slow way
            self.log.warning("%s; this worker starts its kernels the usual way from now on", exc)
            type(self).parent_process = None
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        provisioner: Any = self.provisioner
        provisioner.process, provisioner.pid, provisioner.pgid = _Child(pid), pid, pid
        self._reconcile_connection_info(provisioner.connection_info)

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        provisioner: Any = self.provisioner
        if provisioner is not None and provisioner.pid and (peak := peak_rss(provisioner.pid)):
            type(self).peaks.append(peak)
        await super()._async_shutdown_kernel(now=now, restart=restart)

    shutdown_kernel = _async_shutdown_kernel


# ---------------------------------------------------------------- the kernel parent process


def _kernel(request: dict[str, Any]) -> None:
    """In the forked child: become an ipykernel (never returns)."""
    code = 1
    try:
        os.setsid()  # its own process group, as jupyter_client gives the kernels it spawns
        for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(2, 1)  # the protocol pipe is the parent's; kernel prints go to the run log
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        from ipykernel.kernelapp import IPKernelApp

        # exit with the kernel parent, as a spawned kernel exits with the process that started it;
        # matplotlib was imported before there was a shell, so switch the inline backend on here
        IPKernelApp.launch_instance(argv=[*request["argv"], f"--IPKernelApp.parent_handle={os.getppid()}",
                                          "--matplotlib=inline"])
        code = 0
    except BaseException:  # noqa: BLE001 - report anything, then leave without the parent's atexit hooks
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def warm() -> None:
    """Do once what every report does first: parse the marts' SQL, read the column vocabulary and
    render a table with it, draw and save a chart with Japanese text (fonts, PNG writer)."""
    import io

    import matplotlib.pyplot as plt
    import pandas as pd

    from revbook.data import warehouse
    from revbook.pages import report

    for name in warehouse.mart_names():
        warehouse.mart_parameters(warehouse.mart_sql(name))
    report.table_html(pd.DataFrame({"industry": ["製造業"], "mrr": [1.5]}))
    report.setup_charts()
    fig, ax = plt.subplots()
    ax.bar(["情報通信業", "製造業"], [1, 2])
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def report_modules() -> list[str]:
    """Every module of revbook.departments and revbook.pages: what a report notebook imports of revbook."""
    import revbook.departments
    import revbook.pages

    return [m.name for package in (revbook.departments, revbook.pages)
            for m in pkgutil.iter_modules(package.__path__, package.__name__ + ".")]


def die_with(parent: int, signum: int = signal.SIGKILL) -> None:
    """Have Linux send this process `signum` as soon as `parent`, which started it, dies, however it
    dies (SIGKILL included), so nothing of a stopped run outlives it: workers die with the runner,
    kernel parents with their worker (and kernels watch theirs: parent_handle)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)
    except (OSError, AttributeError):  # not Linux: a closed pipe still ends us, later
        return
    if os.getppid() != parent:  # it died before we asked
        os._exit(0)


def serve(requests: IO[str], out: IO[str], worker: int) -> None:
    """Import PRELOAD and warm up, say ready, then fork one kernel per request line until stdin
    closes."""
    die_with(worker)
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    for name in (*PRELOAD, *report_modules()):
        importlib.import_module(name)
    warm()
    for signum in (signal.SIGINT, signal.SIGHUP):  # the worker stops kernels; Ctrl-C or a hang-up is not for us
        signal.signal(signum, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    out.write(json.dumps({"ready": os.getpid()}) + "\n")
    out.flush()
    for line in requests:
        try:
            request = json.loads(line)
            pid = os.fork()
        except Exception as exc:  # noqa: BLE001 - tell the worker, keep serving
            out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
            out.flush()
            continue
        if pid == 0:
            _kernel(request)
        out.write(json.dumps({"pid": pid}) + "\n")
        out.flush()
    os._exit(0)  # the worker is gone: skip tearing down the preloaded modules


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout, int(sys.argv[1]))
