"""compose-up-and-wait's reading of the engine and of Compose's resolved project:
events, inspect results, and the per-service plan (replicas, healthcheck, restarts)."""

from __future__ import annotations

import pytest

from stackci.core.engine.containers import ContainerState, parse_engine_time
from stackci.core.engine.events import ContainerEvent
from stackci.readiness.stack import BadExtension, service_plan


def test_health_events_keep_the_status_apart() -> None:
    event = ContainerEvent.from_raw({
        "Type": "container", "Action": "health_status: healthy", "status": "health_status: healthy",
        "Actor": {"ID": "abc", "Attributes": {"name": "p-db-1", "com.docker.compose.service": "db",
                                              "com.docker.compose.container-number": "2"}},
        "time": 1700000000, "timeNano": 1700000000123456789,
    })
    assert event is not None
    assert (event.action, event.health, event.service, event.number) == (
        "health_status", "healthy", "db", 2)
    assert event.time == pytest.approx(1700000000.123456789)


def test_die_events_carry_the_exit_code_and_other_types_are_ignored() -> None:
    event = ContainerEvent.from_raw({"Type": "container", "Action": "die",
                                     "Actor": {"ID": "x", "Attributes": {"exitCode": "137"}},
                                     "time": 5})
    assert event is not None
    assert (event.action, event.exit_code, event.time) == ("die", 137, 5.0)
    assert ContainerEvent.from_raw({"Type": "network", "Action": "connect"}) is None


def test_published_ports_prefer_ipv4_and_make_any_address_reachable() -> None:
    state = ContainerState.from_inspect({"NetworkSettings": {"Ports": {
        "8000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "49153"},
                     {"HostIp": "::", "HostPort": "49153"}],
        "9000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "40000"}],
        "6379/tcp": None,
        "53/udp": [{"HostIp": "::", "HostPort": "5353"}],
    }}})
    assert state.port_texts() == [
        ":::5353->53/udp", "6379/tcp", "0.0.0.0:49153->8000/tcp", ":::49153->8000/tcp",
        "127.0.0.1:40000->9000/tcp"]
    assert [p.to_json() for p in state.ports][:2] == [
        {"port": 53, "protocol": "udp", "host_ip": "::", "host_port": 5353},
        {"port": 6379, "protocol": "tcp", "host_ip": None, "host_port": None}]
    ports = state.reachable_ports()
    assert ports == {"8000/tcp": "127.0.0.1:49153", "9000/tcp": "127.0.0.1:40000",
                     "53/udp": "[::1]:5353"}


def test_engine_times() -> None:
    assert parse_engine_time("0001-01-01T00:00:00Z") is None
    assert parse_engine_time("") is None
    assert parse_engine_time("2024-01-02T03:04:05.123456789Z") == pytest.approx(
        1704164645.123456)
    assert parse_engine_time("2024-01-02T03:04:05Z") == pytest.approx(1704164645.0)


def test_inspect_reading() -> None:
    info = ContainerState.from_inspect({
        "Id": "c1", "Name": "/p-db-1", "RestartCount": 2,
        "Config": {"Labels": {"com.docker.compose.service": "db",
                              "com.docker.compose.container-number": "1"}},
        "State": {"Status": "exited", "Running": False, "ExitCode": 3, "OOMKilled": False,
                  "StartedAt": "2024-01-02T03:04:05Z", "FinishedAt": "2024-01-02T03:04:07Z",
                  "Health": {"Status": "unhealthy", "Log": [
                      {"ExitCode": 1, "Output": "old"}, {"ExitCode": 2, "Output": "refused\n"}]}},
        "HostConfig": {"RestartPolicy": {"Name": "on-failure"}, "NetworkMode": "p_default"},
        "NetworkSettings": {"Ports": {}, "Networks": {"other": {"IPAddress": "10.0.0.9"},
                                                      "p_default": {"IPAddress": "172.18.0.3"}}},
    })
    assert (info.name, info.service, info.exit_code, info.restarts) == ("p-db-1", "db", 3, 2)
    assert (info.health, info.health_output, info.health_exit_code) == ("unhealthy", "refused", 2)
    assert info.restart_policy == "on-failure"
    assert info.address("p") == "172.18.0.3"
    assert info.address("elsewhere") == "10.0.0.9"


def test_a_container_that_never_stopped_has_no_exit_code() -> None:
    info = ContainerState.from_inspect({"State": {"Running": True, "ExitCode": 0,
                                               "FinishedAt": "0001-01-01T00:00:00Z"}})
    assert info.exit_code is None
    assert info.health is None


@pytest.mark.parametrize(("spec", "replicas"), [
    ({}, 1), ({"scale": 3}, 3), ({"deploy": {"replicas": 2}}, 2), ({"scale": 0}, 0),
])
def test_replicas(spec: dict[str, object], replicas: int) -> None:
    assert service_plan("s", spec).replicas == replicas


@pytest.mark.parametrize(("healthcheck", "has"), [
    (None, None),  # the image may define one
    ({"test": ["CMD", "true"]}, True),
    ({"test": ["NONE"]}, False),
    ({"disable": True}, False),
    ({"interval": "1s"}, None),  # options only: the test comes from the image
])
def test_healthcheck_presence(healthcheck: object, has: bool | None) -> None:
    spec = {} if healthcheck is None else {"healthcheck": healthcheck}
    assert service_plan("s", spec).has_healthcheck is has


@pytest.mark.parametrize(("spec", "policy", "restarts_on_0", "restarts_on_1"), [
    ({}, "no", False, False),
    ({"restart": "always"}, "always", True, True),
    ({"restart": "unless-stopped"}, "unless-stopped", True, True),
    ({"restart": "on-failure:3"}, "on-failure", False, True),
    ({"deploy": {"restart_policy": {"condition": "any"}}}, "always", True, True),
    ({"deploy": {"restart_policy": {"condition": "none"}}}, "no", False, False),
])
def test_restart_policies(spec: dict[str, object], policy: str, restarts_on_0: bool,
                          restarts_on_1: bool) -> None:
    plan = service_plan("s", spec)
    assert plan.restart_policy == policy
    assert plan.restarts_after(0) is restarts_on_0
    assert plan.restarts_after(1) is restarts_on_1


def test_the_compose_file_extension_is_read_and_checked() -> None:
    plan = service_plan("api", {"x-stackci-wait": {"http": "http://api:80/", "timeout": "9s"}})
    assert plan.wait.timeout == 9.0
    assert plan.wait.checks[0].kind == "http"
    with pytest.raises(BadExtension, match=r"api\.x-stackci-wait: 'soon' is not a check"):
        service_plan("api", {"x-stackci-wait": "soon"})
