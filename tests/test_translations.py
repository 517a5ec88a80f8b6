"""Every word a patient reads goes through Django's translation machinery, and the Spanish
catalog answers every one of them.

The template check parses each patient template with Django's own engine and puts its
text back together with every tag and variable replaced by a placeholder; what is left
outside {% translate %} and {% blocktranslate %} (page text, and the attributes a screen
reader speaks) must hold no letters. Literal fallbacks such as `|default:"None"` count too.
"""

import gettext
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.template.base import Node, NodeList, TextNode, VariableNode
from django.template.defaulttags import CommentNode, IfNode
from django.templatetags.i18n import BlockTranslateNode, TranslateNode

ROOT = Path(settings.BASE_DIR)
PLACEHOLDER = " "  # a space: a tag cut by a variable still parses as a tag
LETTER = re.compile(r"[^\W\d_]")
SPOKEN_ATTRIBUTES = {"aria-label", "title", "alt", "placeholder"}
# Each language's own name, written in that language on the switch.
LANGUAGE_NAMES = {name for _, name in settings.LANGUAGES}

PATIENT_TEMPLATES = [
    "templates/base.html",
    "templates/403.html",
    "templates/404.html",
    "templates/500.html",
    "templates/503.html",
    "templates/ratelimited.html",
    "templates/registration/*",
    "portal/templates/portal/home.html",
    "portal/templates/portal/accounts/*",
    "portal/templates/portal/intake/**/*",
    "portal/templates/portal/booking/*",
    "templates/users/*",
    "links/templates/links/*",
    "notifications/templates/notifications/email/*",
    "notifications/templates/notifications/sms/*",
]


def patient_template_files() -> list[Path]:
    files: set[Path] = set()
    for pattern in PATIENT_TEMPLATES:
        files.update(path for path in ROOT.glob(pattern) if path.is_file())
    return sorted(files)


def _children(node: Node) -> list[NodeList]:
    if isinstance(node, IfNode):
        return [nodelist for _, nodelist in node.conditions_nodelists]
    return [
        nodelist
        for name in node.child_nodelists
        if isinstance(nodelist := getattr(node, name, None), NodeList)
    ]


def _literal_fallbacks(node: VariableNode) -> list[str]:
    """`|default:"Not chosen yet"`: a literal shown to the patient, untranslated."""
    return [
        str(value)
        for function, arguments in node.filter_expression.filters
        if function.__name__ in ("default", "default_if_none")
        for is_variable, value in arguments
        if not is_variable and LETTER.search(str(value))
    ]


def skeleton(nodelist: NodeList, fallbacks: list[str]) -> str:
    """The template's text with everything that is not literal text as a placeholder."""
    parts = []
    for node in nodelist:
        if isinstance(node, TextNode):
            parts.append(node.s)
        elif isinstance(node, TranslateNode | BlockTranslateNode | CommentNode):
            parts.append(PLACEHOLDER)
        else:
            if isinstance(node, VariableNode):
                fallbacks.extend(_literal_fallbacks(node))
            parts.append(PLACEHOLDER)
            parts.extend(skeleton(child, fallbacks) for child in _children(node))
    return "".join(parts)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_code = False

    def _check(self, text: str) -> None:
        text = " ".join(text.replace(PLACEHOLDER, " ").split())
        if LETTER.search(text) and text not in LANGUAGE_NAMES:
            self.found.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_code = tag in ("script", "style")
        for name, value in attrs:
            if name in SPOKEN_ATTRIBUTES and value:
                self._check(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_code = False

    def handle_data(self, data: str) -> None:
        if not self._in_code:
            self._check(data)


def untranslated_text(path: Path) -> list[str]:
    template = engines["django"].engine.from_string(path.read_text())
    fallbacks: list[str] = []
    text = skeleton(template.nodelist, fallbacks)
    collector = _TextCollector()
    collector.feed(text)
    collector.close()
    return collector.found + [f"|default:{value}" for value in fallbacks]


@pytest.mark.parametrize(
    "path", patient_template_files(), ids=lambda path: str(path.relative_to(ROOT))
)
def test_patient_templates_have_no_untranslated_text(path):
    assert untranslated_text(path) == []


def test_the_check_finds_text_outside_translate_tags():
    template = Path(settings.BASE_DIR) / ".untranslated-sample.html"
    try:
        template.write_text(
            '{% load i18n %}<p>{% translate "Fine" %}</p><p>Plain words</p>'
            '<nav aria-label="Main">{{ x|default:"Nobody" }}</nav><p>{{ y }} · 3</p>'
        )
        assert untranslated_text(template) == ["Plain words", "Main", "|default:Nobody"]
    finally:
        template.unlink()


def test_the_patient_templates_are_all_found():
    names = {str(path.relative_to(ROOT)) for path in patient_template_files()}
    assert "templates/base.html" in names
    assert "portal/templates/portal/intake/steps/safety.html" in names
    assert len(names) > 30


SPANISH_PO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
SPANISH_MO = SPANISH_PO.with_suffix(".mo")


def _po_entries(text: str) -> list[dict[str, str]]:
    """Each entry's flags, msgid and msgstr (joined across continuation lines)."""
    entries = []
    for block in text.split("\n\n"):
        entry: dict[str, str] = {"flags": "", "msgid": "", "msgstr": ""}
        current = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith(("msgid ", "msgstr ", "msgid_plural ", "msgstr[")):
                key, _, rest = line.partition(" ")
                current = "msgstr" if key.startswith("msgstr") else key
                entry[current] = entry.get(current, "") + rest.strip()[1:-1]
            elif line.startswith('"') and current:
                entry[current] += line.strip()[1:-1]
        if entry["msgid"]:
            entries.append(entry)
    return entries


def test_every_spanish_message_is_translated_and_none_is_fuzzy():
    entries = _po_entries(SPANISH_PO.read_text())
    assert len(entries) > 100
    untranslated = [entry["msgid"] for entry in entries if not entry["msgstr"]]
    fuzzy = [entry["msgid"] for entry in entries if "fuzzy" in entry["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_the_compiled_spanish_catalog_matches_its_source(tmp_path):
    """The .mo is committed (docs/decisions/0034-spanish.md): it must be the .po compiled."""
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(SPANISH_PO)], check=True)
    with compiled.open("rb") as fresh, SPANISH_MO.open("rb") as committed:
        fresh_catalog = gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        committed_catalog = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
    assert committed_catalog == fresh_catalog
