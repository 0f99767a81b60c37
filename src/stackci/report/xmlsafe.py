"""XML from test tools, parsed without trusting it.

Result files are written by whatever ran in the job, PR code included. ElementTree on its
own expands internal entities (the "billion laughs" bomb); we refuse any DOCTYPE or
entity declaration outright, since no JUnit or Cobertura writer emits one, and build the
tree from expat events ourselves so nothing else is resolved either. (The same rule as
defusedxml's, without the extra dependency.)"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NoReturn
from xml.parsers import expat

# Result files of huge suites reach tens of MB; past this something is wrong.
MAX_XML_BYTES = 64 * 1024 * 1024


class UnreadableReport(Exception):  # noqa: N818 - reads as what it is
    """A result file that cannot be used; the message says why, for a person."""


def parse_xml_file(path: Path) -> ET.Element:
    try:
        size = path.stat().st_size
        if size > MAX_XML_BYTES:
            raise UnreadableReport(f"{size / 1024 / 1024:.0f} MiB is over the "
                                   f"{MAX_XML_BYTES // 1024 // 1024} MiB limit")
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableReport(exc.strerror or str(exc)) from exc
    return parse_xml(data)


def parse_xml(data: bytes) -> ET.Element:
    """The document's root element. Raises `UnreadableReport` for malformed XML and for
    any DOCTYPE or entity declaration."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def refuse(*_: object) -> NoReturn:
        raise UnreadableReport("it declares a DOCTYPE or entities, which result files never "
                               "need (refused: entities can expand into an XML bomb or read "
                               "local files)")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise UnreadableReport(f"not well-formed XML ({expat.errors.messages[exc.code]} "
                               f"at line {exc.lineno})") from exc
    return builder.close()
