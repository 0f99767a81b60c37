"""The `wait` mapping of compose-up-and-wait: every form it accepts, every mistake it
refuses (with a message that says where), and how the input and the compose file's
`x-stackci-wait` field combine."""

from __future__ import annotations

import pytest
import yaml

from stackci.readiness.spec import (
    AUTO,
    Check,
    ServiceWait,
    StatusRule,
    WaitSpecError,
    merge,
    parse_service_wait,
    parse_wait,
)


def parse(text: str) -> dict[str, ServiceWait]:
    return parse_wait(yaml.safe_load(text))


def test_the_issue_example_parses_into_one_check_per_service() -> None:
    spec = parse("""
        db: healthy
        migrate: completed
        api:
          http: http://localhost:8000/health
          status: 200
          timeout: 90s
        kafka:
          exec: kafka-broker-api-versions.sh --bootstrap-server localhost:9092
          timeout: 90s
        cache:
          tcp: localhost:6379
        worker:
          log: "consumer started"
    """)
    kinds = {name: [c.kind for c in wait.checks] for name, wait in spec.items()}
    assert kinds == {"db": ["healthy"], "migrate": ["completed"], "api": ["http"],
                     "kafka": ["exec"], "cache": ["tcp"], "worker": ["log"]}
    assert spec["api"].timeout == 90.0
    assert spec["api"].checks[0].target == "http://localhost:8000/health"
    assert spec["api"].checks[0].status.accepts(200)
    assert not spec["api"].checks[0].status.accepts(204)
    assert spec["kafka"].checks[0].argv == (
        "sh", "-c", "kafka-broker-api-versions.sh --bootstrap-server localhost:9092")
    assert spec["cache"].checks[0].target == "localhost:6379"
    assert spec["worker"].checks[0].pattern is not None
    assert spec["worker"].checks[0].pattern.search("2024 consumer started ok")
    assert spec["db"].timeout is None


def test_several_checks_on_one_service_all_count() -> None:
    wait = parse_service_wait({"healthy": True, "http": "http://api:8000/", "log": "up",
                               "interval": "500ms"}, "api")
    assert [c.kind for c in wait.checks] == ["healthy", "http", "log"]
    assert wait.interval == 0.5


def test_a_list_mixes_names_and_mappings() -> None:
    wait = parse_service_wait(["running", {"tcp": 5432}, {"http": "http://x:1/", "status": "2xx"},
                               {"timeout": "2m"}], "db")
    assert [c.kind for c in wait.checks] == ["running", "tcp", "http"]
    assert wait.checks[1].target == "5432"  # a bare port: the service's own container
    assert wait.timeout == 120.0


def test_no_value_and_options_only_mean_the_automatic_rule() -> None:
    assert parse_service_wait(None, "db").effective_checks == (Check(AUTO),)
    wait = parse_service_wait({"timeout": 30}, "db")
    assert wait.timeout == 30.0
    assert wait.effective_checks == (Check(AUTO),)


def test_exec_as_a_list_runs_without_a_shell() -> None:
    wait = parse_service_wait({"exec": ["pg_isready", "-U", "postgres"]}, "db")
    assert wait.checks[0].argv == ("pg_isready", "-U", "postgres")
    assert wait.checks[0].target == "pg_isready -U postgres"


@pytest.mark.parametrize(("status", "accepted", "refused"), [
    (None, [200, 204, 299], [301, 404, 503]),
    (200, [200], [201, 503]),
    ("2xx", [200, 250], [300]),
    ([200, "3xx"], [200, 301, 302], [201, 404]),
    ("204", [204], [200]),
])
def test_status_rules(status: object, accepted: list[int], refused: list[int]) -> None:
    item: dict[str, object] = {"http": "http://localhost/"}
    if status is not None:
        item["status"] = status
    rule = parse_service_wait(item, "api").checks[0].status
    assert all(rule.accepts(code) for code in accepted)
    assert not any(rule.accepts(code) for code in refused)


def test_status_rule_reads_back_for_people() -> None:
    assert str(StatusRule(frozenset({204, 200}), frozenset({3}))) == "3xx or 200 or 204"
    assert str(StatusRule()) == "2xx"


@pytest.mark.parametrize(("value", "words"), [
    ("ready", "'ready' is not a check"),
    ({"htp": "http://x/"}, "unknown key 'htp'"),
    ({"http": "localhost:8000/health"}, "http:// or https:// URL"),
    ({"http": "ftp://host/"}, "http:// or https:// URL"),
    ({"http": "http://host:99999/"}, "bad port"),
    ({"http": "http://x/", "status": 999}, "status"),
    ({"http": "http://x/", "status": []}, "accepts nothing"),
    ({"http": "http://x/", "status": "20x"}, "status"),
    ({"status": 200}, "'status' belongs to an http check"),
    ({"body": "ok"}, "'body' belongs to an http check"),
    ({"http": "http://x/", "body": "("}, "invalid regular expression"),
    ({"tcp": "localhost"}, "host:port"),
    ({"tcp": "localhost:0"}, "host:port"),
    ({"tcp": "db:70000"}, "host:port"),
    ({"exec": ""}, "must not be empty"),
    ({"exec": []}, "a command or a list of words"),
    ({"exec": [["nested"]]}, "a command or a list of words"),
    ({"log": "("}, "invalid regular expression"),
    ({"log": ""}, "must not be empty"),
    ({"healthy": "yes"}, "true or false"),
    ({"timeout": "soon"}, "duration"),
    ({"timeout": "-5s"}, "duration"),
    ({"timeout": -5}, "above zero"),
    ({"timeout": 0}, "above zero"),
    ({"timeout": "99999999999h"}, "at most 6h"),
    ({"interval": 21601}, "at most 6h"),
    ({"interval": True}, "duration"),
    ([], "empty list"),
    ([{"timeout": "1s"}, {"timeout": "2s"}], "timeout is given more than once"),
    (42, "expected a check name or a mapping"),
])
def test_mistakes_are_refused_with_a_message_naming_the_place(value: object, words: str) -> None:
    with pytest.raises(WaitSpecError) as caught:
        parse_service_wait(value, "api")
    assert words in str(caught.value)
    assert str(caught.value).startswith("api")


def test_the_error_names_the_check_within_the_service() -> None:
    with pytest.raises(WaitSpecError, match=r"^api\.http: "):
        parse_wait({"api": {"http": "nope"}})


def test_input_wins_where_both_speak() -> None:
    from_file = parse_service_wait({"http": "http://api:8000/", "timeout": "60s",
                                    "interval": "2s"}, "api")
    only_timeout = parse_service_wait({"timeout": "90s"}, "api")
    merged = merge(from_file, only_timeout)
    assert [c.kind for c in merged.checks] == ["http"]  # the file's check stays
    assert merged.timeout == 90.0  # the input's timeout wins
    assert merged.interval == 2.0

    other_check = parse_service_wait("healthy", "api")
    merged = merge(from_file, other_check)
    assert [c.kind for c in merged.checks] == ["healthy"]
    assert merged.timeout == 60.0

    assert merge(None, None) == ServiceWait()
    assert merge(from_file, None) == from_file
    assert merge(None, other_check).checks == other_check.checks


def test_descriptions_for_the_summary() -> None:
    checks = {c.kind: c.describe() for c in parse_service_wait(
        [{"http": "http://a:1/h", "body": "ok"}, {"tcp": "a:2"}, {"exec": "true"},
         {"log": "started"}, "healthy"], "a").checks}
    assert checks == {"http": "http http://a:1/h → 2xx, body ~ /ok/", "tcp": "tcp a:2",
                      "exec": "exec `true`", "log": "log /started/", "healthy": "healthy"}
