"""The interface in the reader's language: Gradio's ``gr.I18n`` for static labels, and the
request's language for text made while the app runs.

- ``L("app.tab_compare")`` labels a component. The browser shows it in its language (its
  ``navigator.language``), or in the one the header's switch chose: the switch stores its choice
  in a cookie, and ``LOCALE_SCRIPT``, which runs before Gradio's own code, makes the page take it.
- ``say(message)`` turns a catalogue ``Text`` (or a refusal carrying one) into a sentence in the
  language of the request being handled: the same cookie, else the browser's Accept-Language
  header. So a label and the message under it are always in the same language.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import gradio as gr
from gradio.context import LocalContext

from playground.errors import UserFacingError
from playground.i18n import AUTOMATIC, DEFAULT_LANGUAGE, LANGUAGE_COOKIE, Text, catalogue, render

# What the switch offers, each in its own language (so a reader finds theirs whatever is shown).
LANGUAGE_NAMES = {"en": "English", "pt-BR": "Português (Brasil)"}


def _frontend_translations() -> dict[str, dict[str, str]]:
    """The catalogue for gr.I18n: each language under its own tag and, where free, its base
    language's ("pt" for "pt-BR"), so "pt-PT" browsers get Portuguese too."""
    languages = catalogue().languages
    translations = {tag: dict(texts) for tag, texts in languages.items()}
    for tag, texts in languages.items():
        translations.setdefault(tag.split("-")[0], dict(texts))
    return translations


I18N = gr.I18n(**_frontend_translations())
_recording: ContextVar[set[str] | None] = ContextVar("i18n_keys_used", default=None)


def L(key: str) -> Any:
    """A static label, translated in the browser. An unknown key fails here, at build time.

    Inside an event (a handler updating a label) the text is rendered here instead, in the
    request's language: a page's translations hold only the keys used when it was built."""
    if not catalogue().has(key):
        raise KeyError(f"No text for the key {key!r} in en.json")
    if LocalContext.request.get(None) is not None:
        return Text(key).render(request_language())
    used = _recording.get()
    if used is not None:
        used.add(key)
    return I18N(key)


@contextlib.contextmanager
def recording_keys() -> Iterator[set[str]]:
    """The keys ``L`` hands out while the body builds a page."""
    used: set[str] = set()
    token = _recording.set(used)
    try:
        yield used
    finally:
        _recording.reset(token)


def i18n_for(keys: Iterable[str]) -> gr.I18n:
    """A gr.I18n holding only ``keys``: a page's config carries the texts of its own labels and
    no others (the rater door must not carry the facilitator's texts, model names among them)."""
    wanted = set(keys)
    return gr.I18n(
        **{tag: {k: v for k, v in texts.items() if k in wanted} for tag, texts in _frontend_translations().items()}
    )


def request_language(request: Any = None) -> str:
    """The language of the request being handled (inside a Gradio event), English outside one."""
    request = request if request is not None else LocalContext.request.get(None)
    if request is None:
        return DEFAULT_LANGUAGE
    try:
        cookies = request.cookies or {}
        headers = request.headers or {}
    except (AttributeError, KeyError):  # a request Gradio built without the HTTP parts
        return DEFAULT_LANGUAGE
    return catalogue().negotiate(headers.get("accept-language"), cookies.get(LANGUAGE_COOKIE))


def say(message: object, language: str | None = None) -> str:
    """``message`` (a Text, a refusal, or plain text) as a sentence in the reader's language."""
    language = language or request_language()
    if isinstance(message, UserFacingError):
        return message.message_in(language)
    return render(message, language)


def text(key: str, **values: Any) -> str:
    """The catalogue text ``key`` in the reader's language, for a handler's output."""
    return Text(key, values).render(request_language())


# Runs first in <head> (doors.py puts it there): the switch's cookie decides the page's language
# before Gradio reads navigator.language to pick its translations.
LOCALE_SCRIPT = (
    "<script>(() => { try {"
    f" const m = document.cookie.match(/(?:^|; ){LANGUAGE_COOKIE}=([^;]+)/);"
    f" const chosen = m ? decodeURIComponent(m[1]) : '';"
    " if (chosen && /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(chosen)) {"
    " Object.defineProperty(Navigator.prototype, 'language', { get: () => chosen, configurable: true });"
    " Object.defineProperty(Navigator.prototype, 'languages', { get: () => [chosen], configurable: true });"
    " } } catch (e) {} })();</script>"
)

_SET_LANGUAGE_JS = (
    "(language) => {"
    f" const name = {json.dumps(LANGUAGE_COOKIE)};"
    f" if (language === {json.dumps(AUTOMATIC)}) {{ document.cookie = name + '=; path=/; max-age=0; SameSite=Lax'; }}"
    " else { document.cookie = name + '=' + encodeURIComponent(language) + '; path=/; max-age=31536000; SameSite=Lax'; }"
    " window.location.reload(); return language; }"
)
_CURRENT_LANGUAGE_JS = (
    "() => {"
    f" const m = document.cookie.match(/(?:^|; ){LANGUAGE_COOKIE}=([^;]+)/);"
    f" return m ? decodeURIComponent(m[1]) : {json.dumps(AUTOMATIC)}; }}"
)


def language_switch(demo: gr.Blocks) -> gr.Dropdown:
    """The visible switch: Automatic (the browser's language), or one of the catalogue's."""
    choices = [(L("app.language_automatic"), AUTOMATIC)]
    choices += [(LANGUAGE_NAMES.get(tag, tag), tag) for tag in catalogue().languages]
    switch = gr.Dropdown(
        choices,
        value=AUTOMATIC,
        label=L("app.language"),
        interactive=True,
        scale=0,
        min_width=220,
        elem_id="language-switch",
    )
    # Only a person's choice reloads the page (.input, not .change): the load below sets the value.
    switch.input(None, [switch], None, js=_SET_LANGUAGE_JS, queue=False, api_name=False)
    demo.load(None, None, [switch], js=_CURRENT_LANGUAGE_JS, queue=False, api_name=False)
    return switch
