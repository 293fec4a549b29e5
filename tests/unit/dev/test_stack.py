"""The supervisor before it starts anything: port checks, and what `--without` accepts."""

from __future__ import annotations

import socket
import sys

import pytest

from captionist_dev import cli
from captionist_dev.stack import APP_SERVICE_NAMES, Service, StackError, check_ports, port_is_free
from tests.conftest import free_port


def service(name: str, port: int) -> Service:
    """A service of the stack on ``port`` (never started here)."""
    return Service(
        name=name,
        command=(sys.executable, "-c", "pass"),
        port=port,
        port_variable=f"CAPTIONIST_{name.upper()}_PORT",
        role="test",
    )


def test_a_port_with_a_listener_is_taken() -> None:
    """GIVEN a socket listening on a loopback port
    WHEN the port is checked
    THEN it is taken, and free again once the socket is closed."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
    assert port_is_free("127.0.0.1", port)


def test_a_taken_port_is_refused_naming_its_variable() -> None:
    """GIVEN the broadcaster's port taken by another process
    WHEN the stack's ports are checked
    THEN the refusal names the port, the service and the variable that moves it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(StackError) as refused:
            check_ports(
                "127.0.0.1", [service("gateway", free_port()), service("broadcaster", port)]
            )
    message = str(refused.value)
    assert f"port {port} (broadcaster) is already in use" in message
    assert "CAPTIONIST_BROADCASTER_PORT=<port>" in message


def test_two_services_on_one_port_are_refused() -> None:
    """GIVEN two services configured on the same port
    WHEN the stack's ports are checked
    THEN the refusal names both services and the port."""
    port = free_port()
    with pytest.raises(StackError, match=f"broadcaster and gateway are both set to port {port}"):
        check_ports("127.0.0.1", [service("gateway", port), service("broadcaster", port)])


def test_free_ports_pass() -> None:
    """GIVEN services on distinct free ports
    WHEN the stack's ports are checked
    THEN nothing is refused."""
    check_ports("127.0.0.1", [service("gateway", free_port()), service("broadcaster", free_port())])


def test_run_refuses_to_leave_out_a_service_it_does_not_have(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GIVEN `captionist-dev run --without` naming no service of the stack
    THEN it exits with a usage error listing the services it can leave out, starting nothing."""
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "--without", "database"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'database'" in error
    assert all(name in error for name in APP_SERVICE_NAMES)
