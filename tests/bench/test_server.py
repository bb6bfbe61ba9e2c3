"""bench/run.py's servers refuse a port that something else already answers on."""

from __future__ import annotations

import socket

import pytest
from bench.run import Server


def test_a_server_refuses_to_start_on_a_taken_port() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = Server("service", port, ["true"], {})
        with pytest.raises(SystemExit) as refused:
            server.start("/healthz")
    message = str(refused.value)
    assert message.startswith(f"port {port} of the service server is taken")
    assert message.endswith("; stop what holds it (a server of an earlier run?) and run again")
    assert server.process is None
