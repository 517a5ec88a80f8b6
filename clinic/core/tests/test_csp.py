"""The Content-Security-Policy (django-csp, settings CONTENT_SECURITY_POLICY) is on every page
and API answer, with no 'unsafe-inline' or 'unsafe-eval'; and nothing in our templates, in
HTML built by Python or in our scripts' markup strings needs them: no inline <script> body, no
on*= handler, no style= attribute, no <style> block. (tests/browser/test_csp.py loads the pages
in Chromium and fails on any violation.)"""

import io
import re
import tokenize
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from knox.models import AuthToken

from patients.tests.factories import PatientFactory

BASE = Path(settings.BASE_DIR)
SKIPPED_DIRS = {
    ".venv",
    ".venv-bench",
    "node_modules",
    "staticfiles",
    "tests",
    "__pycache__",
    ".git",
}

EXPECTED_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# What a strict policy refuses in markup. A <script> may only load a file: a src and no body.
INLINE_MARKUP = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)|<script\b[^>]*>\s*[^<\s]", re.I),
    "on*= handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "<style> block": re.compile(r"<style\b", re.I),
}
# In JavaScript only markup inside strings counts (`const style = ...` is code, not markup).
INLINE_MARKUP_IN_JS = {
    **INLINE_MARKUP,
    "on*= handler": re.compile(r"\son[a-z]+=[\"'\\]", re.I),
    "style= attribute": re.compile(r"\sstyle=[\"'\\]", re.I),
}
DJANGO_COMMENT = re.compile(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S)


def parse_policy(header: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in parts}


def project_files(root: Path, pattern: str) -> list[Path]:
    return [
        path
        for path in root.rglob(pattern)
        if not SKIPPED_DIRS.intersection(path.relative_to(BASE).parts)
    ]


def template_files() -> list[Path]:
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    folders += [
        Path(config.path) / "templates"
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(BASE) and ".venv" not in Path(config.path).parts
    ]
    return sorted({path for folder in folders for path in project_files(folder, "*.html")})


def python_strings(path: Path) -> str:
    """Every string literal of a Python file, one a line (where Python builds HTML)."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return "\n".join(token.string for token in tokens if token.type == tokenize.STRING)


def findings(text: str, patterns: dict[str, re.Pattern[str]], where: Path) -> list[str]:
    return [
        f"{where.relative_to(BASE)}: {name}: {match.group(0)!r}"
        for name, pattern in patterns.items()
        for match in pattern.finditer(text)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/accounts/login/", None),
        ("/patients/", "front_desk_user"),
        ("/portal/", "patient_user"),
        ("/admin/", "manager_user"),
        ("/no-such-page/", None),
    ],
)
def test_pages_carry_the_strict_policy(client, request, path, who):
    if who:
        client.sign_in(request.getfixturevalue(who))
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert parse_policy(response["Content-Security-Policy"]) == EXPECTED_POLICY


@pytest.mark.django_db
def test_api_answers_carry_the_strict_policy(client, clinician_user):
    _, token = AuthToken.objects.create(user=clinician_user)
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    patient = PatientFactory()
    answers = [
        client.get("/api/v1/me/", **auth),
        client.get(f"/api/v1/patients/{patient.pk}/", **auth),
        client.get("/api/v1/patients/00000000-0000-0000-0000-000000000000/", **auth),
        client.post("/api/v1/auth/token/", {}, content_type="application/json"),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 404, 400]
    for answer in answers:
        assert parse_policy(answer["Content-Security-Policy"]) == EXPECTED_POLICY


@pytest.mark.django_db
def test_the_api_docs_keep_the_strict_policy(client, front_desk_user):
    """Swagger UI's start-up script is a file of its own (?script), its styles a stylesheet."""
    client.sign_in(front_desk_user)
    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script")
    assert page.status_code == 200 and script.status_code == 200
    assert parse_policy(page["Content-Security-Policy"]) == EXPECTED_POLICY
    html = page.content.decode()
    assert findings(html, INLINE_MARKUP, BASE / "api-docs") == []
    assert 'src="/api/docs/?script="' in html
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


def test_the_policy_allows_nothing_inline_or_evaluated():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    every_source = [source for sources in directives.values() for source in sources]
    assert "'unsafe-inline'" not in every_source
    assert "'unsafe-eval'" not in every_source
    assert "'unsafe-hashes'" not in every_source


# Email HTML is read in mail clients, never served under our policy, and mail clients
# honour only inline styles.
EMAIL_LAYOUTS = {Path("notifications/templates/notifications/email/_layout.html")}


def test_no_template_has_inline_script_handlers_or_styles():
    templates = [path for path in template_files() if path.relative_to(BASE) not in EMAIL_LAYOUTS]
    assert len(templates) > 50, "the walk finds the project's templates"
    found = [
        finding
        for path in templates
        for finding in findings(DJANGO_COMMENT.sub("", path.read_text()), INLINE_MARKUP, path)
    ]
    assert found == []


def test_no_python_builds_html_with_inline_script_handlers_or_styles():
    sources = project_files(BASE, "*.py")
    assert any(path.name == "views.py" for path in sources)
    found = [
        finding
        for path in sources
        if "migrations" not in path.parts
        for finding in findings(python_strings(path), INLINE_MARKUP, path)
    ]
    assert found == []


def test_no_script_of_ours_writes_inline_handlers_or_styles_into_markup():
    scripts = project_files(BASE / "static", "*.js")
    assert scripts, "static/js has the pages' scripts"
    found = [
        finding
        for path in scripts
        for finding in findings(path.read_text(), INLINE_MARKUP_IN_JS, path)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("markup", "name"),
    [
        ("<script>alert(1)</script>", "inline <script>"),
        ('<script src="/static/x.js">alert(1)</script>', "inline <script>"),
        ('<button onclick="go()">', "on*= handler"),
        ('<p style="color: red">', "style= attribute"),
        ("<style>p { color: red }</style>", "<style> block"),
    ],
)
def test_the_grep_catches_each_kind(markup, name):
    assert [hit.split(": ")[1] for hit in findings(markup, INLINE_MARKUP, BASE / "x")] == [name]


def test_the_grep_passes_a_script_file_and_json_data():
    assert findings('<script src="/static/x.js" defer></script>', INLINE_MARKUP, BASE) == []
