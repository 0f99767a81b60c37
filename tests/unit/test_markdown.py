"""Outside text in Markdown renders as itself and cannot break out of its place."""

from __future__ import annotations

from stackci.core.text import markdown as md


def test_escape_makes_links_images_html_and_mentions_inert() -> None:
    assert md.escape("[click](evil) ![i](x) <img src=x> @alice *b* _i_ `c`") == (
        "\\[click\\](evil) !\\[i\\](x) \\<img src=x\\> @\u200balice \\*b\\* \\_i\\_ \\`c\\`")


def test_bare_urls_are_not_autolinked() -> None:
    assert md.escape("see https://evil.example and www.evil.example") == (
        "see https:\u200b//evil.example and www\u200b.evil.example")


def test_escape_neutralizes_block_syntax_only_at_line_start() -> None:
    assert md.escape("# title\n- item\n1. one\n+ plus\nv1.2 - fine (ok) #x") == (
        "\\# title\n\\- item\n1\\. one\n\\+ plus\nv1.2 - fine (ok) #x")


def test_carriage_returns_cannot_start_blocks_or_end_spans() -> None:
    hostile = "evil\r\r# INJECTED\r\r[click](https:evil)"
    assert md.escape(hostile) == "evil\n\n\\# INJECTED\n\n\\[click\\](https:evil)"
    assert "\r" not in md.cell(hostile)
    assert md.inline_code("a\rb\nc") == "`a b c`"


def test_cells_stay_in_their_column_and_row() -> None:
    row = md.table(["a", "b"], [[md.cell("x | y\nz"), md.cell("w")]])
    assert row.splitlines()[2] == "| x \\| y<br>z | w |"


def test_code_block_fence_outlasts_the_text() -> None:
    block = md.code_block("before\n```\nafter")
    assert block.startswith("````\n")
    assert block.endswith("\n````")


def test_inline_code_with_backticks() -> None:
    assert md.inline_code("a`b") == "``a`b``"
    assert md.inline_code("`x`") == "`` `x` ``"


def test_entities_cannot_spell_what_escaping_removed() -> None:
    """`&#64;` is `@` once rendered: escaped text keeps its `&` literal, so no entity
    makes a mention, a tag or a link."""
    assert md.escape("&#64;org/team &lt;b&gt; AT&T") == (
        "&amp;#\u200b64;org/team &amp;lt;b&amp;gt; AT&amp;T")


def test_issue_references_do_not_link_or_notify() -> None:
    """`#123` in a comment links to (and cross-references from) issue 123; outside text
    must not reach into other issues. A zero-width space keeps it plain text."""
    assert md.escape("fixes #123 and octo/app#7, issue # 5") == (
        "fixes #\u200b123 and octo/app#\u200b7, issue # 5")
    assert md.cell("see #9") == "see #\u200b9"
