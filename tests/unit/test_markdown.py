"""Outside text in Markdown renders as itself and cannot break out of its place."""

from __future__ import annotations

from stackci.core import markdown as md


def test_escape_makes_links_images_html_and_mentions_inert() -> None:
    assert md.escape("[click](evil) ![i](x) <img src=x> @alice *b* _i_ `c`") == (
        "\\[click\\](evil) !\\[i\\](x) \\<img src=x\\> @\u200balice \\*b\\* \\_i\\_ \\`c\\`")


def test_bare_urls_are_not_autolinked() -> None:
    assert md.escape("see https://evil.example and www.evil.example") == (
        "see https:\u200b//evil.example and www\u200b.evil.example")


def test_escape_neutralizes_block_syntax_only_at_line_start() -> None:
    assert md.escape("# title\n- item\n1. one\n+ plus\nv1.2 - fine (ok) #3") == (
        "\\# title\n\\- item\n1\\. one\n\\+ plus\nv1.2 - fine (ok) #3")


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
