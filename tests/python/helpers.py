"""Helpers shared by the Python tests: the binaries under test and local servers."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _binary(var: str, rel: str, build_hint: str) -> Path:
    candidates = []
    if os.environ.get(var):
        candidates.append(Path(os.environ[var]))
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / rel)
    candidates.append(ROOT / "target" / "debug" / rel)
    for c in candidates:
        if c.is_file():
            return c
    pytest.fail(f"{rel} not found in {candidates}: run `{build_hint}` or set {var}")


def resyn_bin() -> Path:
    """The `resyn` binary: RESYN_BIN, else $CARGO_TARGET_DIR/debug/resyn, else
    target/debug/resyn."""
    return _binary("RESYN_BIN", "resyn", "cargo build -p resyn-cli")


def replay_server_bin() -> Path:
    """The replay server of recorded LLM replies (RESYN_REPLAY_SERVER, else the cargo example)."""
    return _binary(
        "RESYN_REPLAY_SERVER",
        "examples/replay_server",
        "cargo build -p resyn-synth --features replay --example replay_server",
    )


class Server:
    """A child process serving HTTP; `url` is its base URL. Killed on close."""

    def __init__(self, args: list[str], url_pattern: str, stream: str, env=None):
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        pipe = self.proc.stdout if stream == "stdout" else self.proc.stderr
        seen = []
        for line in pipe:
            seen.append(line)
            m = re.search(url_pattern, line)
            if m:
                self.url = m.group(0)
                return
        self.close()
        raise RuntimeError(f"{args[0]} exited before serving:\n{''.join(seen)}")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
