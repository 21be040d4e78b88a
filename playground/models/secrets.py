"""API keys: which environment variables may be an endpoint's key, which server each key may be
sent to, and keys typed into the UI (kept in this process's memory only, never on disk).

Every key is bound to an *origin* (scheme, host and port) and is sent to nothing else:

- a key typed in the UI is bound to the origin of the URL it was typed for;
- an environment variable may be a key only if its name ends in ``_API_KEY`` or ``_TOKEN`` or it
  is listed in ``PLAYGROUND_KEY_VARS``, so other settings (``DATABASE_URL``, ``PLAYGROUND_HOME``)
  are never sent anywhere. It is then bound, first match wins, to the origins given for it in
  ``PLAYGROUND_KEY_VARS`` (``NAME=https://host``), else to its vendor's API for the well-known
  names in ``VENDOR_ORIGINS``, else to the origin of the first endpoint saved with it, and that
  one must be on this machine (localhost): only the person running Playground can send a key
  to another server, so a participant cannot point ``OPENAI_API_KEY`` at their own listener.
"""

from __future__ import annotations

import ipaddress
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

from playground.errors import InvalidInput

KEY_VARS_SETTING = "PLAYGROUND_KEY_VARS"
KEY_VAR_SUFFIXES = ("_API_KEY", "_TOKEN")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MASK = "<hidden>"
MIN_MASKED_PREFIX = 8  # a key cut short in a quoted error body is still masked from this length on
# The vendors' own variable names, bound to their APIs: none of them is ever meant for another server.
VENDOR_ORIGINS: dict[str, tuple[str, ...]] = {
    "OPENAI_API_KEY": ("https://api.openai.com",),
    "ANTHROPIC_API_KEY": ("https://api.anthropic.com",),
    "GEMINI_API_KEY": ("https://generativelanguage.googleapis.com",),
    "MISTRAL_API_KEY": ("https://api.mistral.ai",),
    "GROQ_API_KEY": ("https://api.groq.com",),
    "OPENROUTER_API_KEY": ("https://openrouter.ai",),
    "TOGETHER_API_KEY": ("https://api.together.xyz",),
    "DEEPSEEK_API_KEY": ("https://api.deepseek.com",),
    "XAI_API_KEY": ("https://api.x.ai",),
    "FIREWORKS_API_KEY": ("https://api.fireworks.ai",),
    "CEREBRAS_API_KEY": ("https://api.cerebras.ai",),
    "PERPLEXITY_API_KEY": ("https://api.perplexity.ai",),
    "NVIDIA_API_KEY": ("https://integrate.api.nvidia.com",),
    "COHERE_API_KEY": ("https://api.cohere.ai",),
    "HF_TOKEN": ("https://router.huggingface.co", "https://api-inference.huggingface.co"),
    "GITHUB_TOKEN": ("https://models.github.ai", "https://models.inference.ai.azure.com"),
}


class KeyRefused(InvalidInput):
    """An API-key variable that may not be used, or not with that server."""


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL, lower-cased, the default port left out."""
    parts = urlsplit((url or "").strip())
    scheme = parts.scheme.lower()
    try:
        host, port = parts.hostname, parts.port
    except ValueError as err:  # a port that is not a number
        raise ValueError(f"{url!r} has no valid port") from err
    if scheme not in ("http", "https") or not host:
        raise ValueError(f"{url!r} is not an http(s) address")
    host = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def is_loopback(origin: str) -> bool:
    """True for an origin on this machine: ``localhost`` or a loopback IP literal (not a DNS name)."""
    host = (urlsplit(origin).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mask_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret, and any cut-off start of one, replaced by ``<hidden>``."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
        if len(secret) <= MIN_MASKED_PREFIX:
            continue
        head = secret[:MIN_MASKED_PREFIX]
        start = text.find(head)
        while start >= 0:
            end = start + MIN_MASKED_PREFIX
            while end < len(text) and end - start < len(secret) and text[end] == secret[end - start]:
                end += 1
            text = text[:start] + MASK + text[end:]
            start = text.find(head, start + len(MASK))
    return text


def parse_key_vars(entries: Sequence[str]) -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """``PLAYGROUND_KEY_VARS`` entries (``NAME`` or ``NAME=URL``) as (allowed names, bound origins)."""
    names: set[str] = set()
    bound: dict[str, tuple[str, ...]] = {}
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        name, sep, url = (part.strip() for part in entry.partition("="))
        if not ENV_NAME.fullmatch(name):
            raise ValueError(f"{KEY_VARS_SETTING}: {name!r} is not an environment variable name")
        names.add(name)
        if sep:
            try:
                origin = origin_of(url)
            except ValueError as err:
                raise ValueError(f"{KEY_VARS_SETTING}: {entry!r} should look like {name}=https://host[:port]") from err
            bound[name] = (*bound.get(name, ()), origin)
    return frozenset(names), bound


class KeyPolicy:
    """The one check every use of an API-key variable goes through: saving, testing, sending."""

    def __init__(self, entries: Sequence[str] = (), first_origin: Callable[[str], str | None] | None = None):
        """``entries``: ``PLAYGROUND_KEY_VARS``; ``first_origin(name)``: the origin of the first saved
        endpoint that uses the variable ``name``, or None (the endpoints are stored elsewhere)."""
        self.listed, self.bound = parse_key_vars(entries)
        self._first_origin = first_origin

    @classmethod
    def from_env(cls) -> KeyPolicy:
        return cls(os.environ.get(KEY_VARS_SETTING, "").split(","))

    def allowed(self, name: str) -> bool:
        return name in self.listed or (name.endswith(KEY_VAR_SUFFIXES) and bool(ENV_NAME.fullmatch(name)))

    def origins_for(self, name: str) -> tuple[str, ...]:
        """The origins the operator bound ``name`` to (setting, else vendor); empty when unbound."""
        return self.bound.get(name) or VENDOR_ORIGINS.get(name, ())

    def check_name(self, name: str) -> None:
        if not self.allowed(name):
            raise KeyRefused(
                f"{name} cannot be used as an API-key variable: only variables whose names end in _API_KEY or "
                f"_TOKEN can, so that other server settings are never sent anywhere. To allow it, whoever runs "
                f"Playground can add it to {KEY_VARS_SETTING} (comma-separated, e.g. {KEY_VARS_SETTING}={name}) "
                "and restart it."
            )

    def check(self, name: str, url: str) -> None:
        """Raise KeyRefused unless the variable ``name`` may be sent to ``url``."""
        self.check_name(name)
        try:
            origin = origin_of(url)
        except ValueError as err:
            raise KeyRefused(f"{url!r} is not a web address, so no API key is sent to it.") from err
        bind = f"{KEY_VARS_SETTING}={name}={origin}"
        allowed = self.origins_for(name)
        if allowed:
            if origin not in allowed:
                raise KeyRefused(
                    f"{name} is only sent to {' or '.join(allowed)}, not to {origin}. If {origin} should get it, "
                    f"whoever runs Playground can bind it there with {bind} and restart it."
                )
            return
        first = self._first_origin(name) if self._first_origin else None
        if first is not None and first != origin:
            raise KeyRefused(
                f"{name} is bound to {first} (the first endpoint saved with it), so it is not sent to {origin}. "
                f"To use it with both, whoever runs Playground can set "
                f"{KEY_VARS_SETTING}={name}={first},{name}={origin} and restart it."
            )
        if not is_loopback(origin):
            raise KeyRefused(
                f"{name} is not bound to a server, so it is only sent to servers on this machine (localhost). "
                f"To send it to {origin}, whoever runs Playground can set {bind} and restart it."
            )

    def env_key(self, name: str, url: str) -> str | None:
        """The value of the variable ``name`` to send to ``url`` (None when unset), after ``check``."""
        self.check(name, url)
        return (os.environ.get(name) or "").strip() or None


class SecretStore:
    """Keys typed in the UI, ``{model key: (key, origin it was typed for)}``; repr never shows values."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, str | None]] = {}
        self._lock = threading.Lock()

    def set(self, key: str, value: str, origin: str | None = None) -> None:
        value = (value or "").strip()
        with self._lock:
            if value:
                self._values[key] = (value, origin)
            else:
                self._values.pop(key, None)

    def get(self, key: str) -> str | None:
        with self._lock:
            found = self._values.get(key)
        return found[0] if found else None

    def origin(self, key: str) -> str | None:
        """The origin the key for ``key`` may be sent to (None: the endpoint's own, when it was built)."""
        with self._lock:
            found = self._values.get(key)
        return found[1] if found else None

    def forget(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._values

    def __repr__(self) -> str:
        with self._lock:
            return f"SecretStore(keys={sorted(self._values)!r})"
