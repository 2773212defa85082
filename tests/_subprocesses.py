"""Helpers for tests that run a process and kill it mid-work."""

import subprocess


def kill_and_reap(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc`` if it still runs (a crash, as the tests mean it), wait for it and
    close its pipes; its ``returncode`` is then -SIGKILL unless it had already ended."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
