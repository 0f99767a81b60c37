"""Logic-less templates: only listed placeholders, literal braces, and values that are
never read as templates."""

from __future__ import annotations

import pytest

from stackci.core.text.template import Template

ALLOWED = ("branch", "sha7", "workflow")


def test_placeholders_are_replaced_and_braces_kept() -> None:
    template = Template.parse("CI {{failing}}: {workflow} on {branch} ({sha7}) }}", ALLOWED)
    assert template.render({"workflow": "CI", "branch": "main", "sha7": "abc1234"}) == \
        "CI {failing}: CI on main (abc1234) }"
    assert template.names == {"workflow", "branch", "sha7"}


def test_a_value_is_never_read_as_a_template() -> None:
    template = Template.parse("{branch}", ALLOWED)
    assert template.render({"branch": "{workflow}{{7*7}}${{ secrets.X }}"}) == \
        "{workflow}{{7*7}}${{ secrets.X }}"


def test_values_go_through_the_callers_escaping() -> None:
    template = Template.parse("on {branch}", ALLOWED)
    assert template.render({"branch": "x"}, escape=lambda v: f"<{v}>") == "on <x>"


@pytest.mark.parametrize(("text", "words"), [
    ("{env.HOME}", "unknown placeholder {env.HOME}"),
    ("{secrets}", "unknown placeholder {secrets}"),
    ("{ branch }", "unknown placeholder { branch }"),
    ("{Branch}", "unknown placeholder {Branch}"),
    ("a { b", "a lone '{'"),
    ("a } b", "a lone '}'"),
    ("{file:///etc/passwd}", "unknown placeholder"),
])
def test_anything_else_is_refused(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=r"placeholder|lone") as caught:
        Template.parse(text, ALLOWED)
    assert words in str(caught.value)
