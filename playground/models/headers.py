"""Extra HTTP headers of a connection, with no secret stored in them.

A header value is plain text (``HTTP-Referer: https://example.org``) or holds references to
environment variables (``x-api-key: ${ANTHROPIC_API_KEY}``, ``Authorization: Bearer ${LAB_TOKEN}``),
read when a request is sent. A reference goes through the same ``KeyPolicy`` as a connection's key:
only allowed variable names, only to the origin that variable is bound to. A literal value is
refused where it looks like a secret, so nobody saves a key in the database by typing it here:

- under a header whose name says it carries a credential (auth, key, token, secret, cookie, ...),
  anything but references (and a scheme word such as ``Bearer``) is refused;
- under any header, a value that starts like a known key (``sk-``, ``ghp_``, ``AIza``, a JWT ...)
  or holds a long run of letters and digits (24 or more, as keys are) is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from playground.errors import InvalidInput
from playground.i18n import t
from playground.models.secrets import KeyPolicy

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,99}")
# Set by the HTTP client or by the backend itself: a connection may not override them.
RESERVED = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection", "te", "upgrade", "accept-encoding"}
)
CREDENTIAL_NAME = re.compile(r"auth|key|token|secret|passw|cookie|session|signature|credential", re.IGNORECASE)
SCHEME_WORDS = re.compile(r"\s*(?:bearer|basic|token|key)?\s*", re.IGNORECASE)
KEY_PREFIXES = re.compile(
    r"(?:sk-|sk_|rk_|pk_|ghp_|gho_|ghs_|ghu_|github_pat_|glpat-|xai-|gsk_|AIza|hf_|eyJ|xox[abp]-)", re.IGNORECASE
)
LONG_RUN = re.compile(r"[A-Za-z0-9_\-+/=.]{24,}")
MAX_VALUE = 1000


def parse_headers(raw: str) -> dict[str, str]:
    """``Name: value`` lines (blank lines and ``#`` comments skipped) as a dict."""
    headers: dict[str, str] = {}
    for line in (raw or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise InvalidInput(t("connections.header_no_colon", line=line[:80]))
        headers[name.strip()] = value.strip()
    return headers


def format_headers(headers: Mapping[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def _looks_like_a_secret(literal: str) -> bool:
    for word in literal.split():
        if KEY_PREFIXES.match(word):
            return True
        run = LONG_RUN.search(word)
        if run and "://" not in word and re.search(r"\d", run.group()) and re.search(r"[A-Za-z]", run.group()):
            return True
    return False


def check_header(name: str, value: str, url: str, keys: KeyPolicy) -> None:
    if not HEADER_NAME.fullmatch(name):
        raise InvalidInput(t("connections.header_bad_name", name=name[:80]))
    if name.lower() in RESERVED:
        raise InvalidInput(t("connections.header_reserved", name=name))
    if len(value) > MAX_VALUE or not (value.isascii() and value.isprintable()):
        raise InvalidInput(t("connections.header_bad_value", name=name))
    for variable in REFERENCE.findall(value):
        keys.check(variable, url)  # allowed names only, and only to the origin the variable is bound to
    literal = REFERENCE.sub(" ", value)
    credential = bool(CREDENTIAL_NAME.search(name))
    if (credential and not SCHEME_WORDS.fullmatch(literal)) or _looks_like_a_secret(literal):
        raise InvalidInput(t("connections.header_secret", name=name))


def check_headers(headers: Mapping[str, str], url: str, keys: KeyPolicy) -> dict[str, str]:
    """The headers, checked (see the module's rules); raises InvalidInput with a plain sentence."""
    seen: set[str] = set()
    for name, value in headers.items():
        if name.lower() in seen:
            raise InvalidInput(t("connections.header_twice", name=name))
        seen.add(name.lower())
        check_header(name, value, url, keys)
    return dict(headers)


def resolve_headers(headers: Mapping[str, str], url: str, keys: KeyPolicy) -> dict[str, str]:
    """The headers to send to ``url``, references replaced by their variables' values (checked
    again now: the binding may have changed since they were saved). An unset variable sends
    nothing for that header."""
    resolved: dict[str, str] = {}
    for name, value in headers.items():
        missing = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal missing
            found = keys.env_key(match.group(1), url)
            missing = missing or found is None
            return found or ""

        text = REFERENCE.sub(substitute, value)
        if not missing:
            resolved[name] = text
    return resolved


def referenced_values(headers: Mapping[str, str]) -> list[str]:
    """The values of every variable the headers refer to: masked wherever a message quotes a server."""
    values = []
    for value in headers.values():
        for variable in REFERENCE.findall(value):
            found = (os.environ.get(variable) or "").strip()
            if found:
                values.append(found)
    return values
