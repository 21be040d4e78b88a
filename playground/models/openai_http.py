"""Backend for any OpenAI-compatible /v1/chat/completions server (OpenAI, vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from playground.errors import EndpointError
from playground.i18n import t
from playground.models import quirks as quirk_rules
from playground.models.base import Backend, UsageClock, chat_messages
from playground.models.headers import referenced_values, resolve_headers
from playground.models.openai_wire import (  # re-exported: callers and tests import them from here
    SSE_DONE,
    NotOpenAIResponse,
    chat_completions_url,
    connect_error_message,
    http_error_message,
    normalize_base_url,
    parse_sse_line,
    server_error_message,
    v1_hint,
)
from playground.models.secrets import KeyPolicy, mask_secrets, origin_of
from playground.models.types import GenerationParams, GenerationStream, Message, ModelSpec

log = logging.getLogger(__name__)
MAX_ADAPTATIONS = 4  # a reasoning model may refuse max_tokens, then temperature, then top_p, one per error


def _origin_or_none(url: str) -> str | None:
    try:
        return origin_of(url)
    except ValueError:
        return None


class _Hidden:
    """Holds a secret so that repr(), vars() and debuggers show no value."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>"


@dataclass
class _Tally:
    chunks: int = 0
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    saw_choices: bool = False
    done: bool = False
    cancelled: bool = False


class OpenAIHTTPBackend(Backend):
    def __init__(
        self,
        spec: ModelSpec,
        *,
        api_key: str | None = None,
        key_origin: str | None = None,
        keys: KeyPolicy | None = None,
        timeout_s: float = 60.0,
        client: httpx.Client | None = None,
        remember_quirks: quirk_rules.QuirkSink | None = None,
    ):
        """``api_key``: a key typed in the UI, sent only to ``key_origin`` (default: this endpoint's
        origin now). A key from ``spec.api_key_env`` is read per request through ``keys``.
        ``remember_quirks`` saves what the model turned out to need (see ``quirks``)."""
        super().__init__(spec)
        self.base_url = normalize_base_url(spec.base_url)
        self.url = chat_completions_url(self.base_url, spec.extra.get("api_version"))
        self.quirks: dict[str, Any] = dict(spec.extra.get("quirks") or {})
        self._remember_quirks = remember_quirks
        self.timeout_s = timeout_s
        self._runtime_key = _Hidden(api_key.strip()) if api_key and api_key.strip() else None
        self._key_origin = key_origin or (_origin_or_none(self.url) if self._runtime_key else None)
        self._keys = keys or KeyPolicy.from_env()
        self._given_client = client
        self._client: httpx.Client | None = None
        self._send_stream_options = True
        self._key_sent = False

    def __repr__(self) -> str:
        env_set = bool(self.spec.api_key_env and (os.environ.get(self.spec.api_key_env) or "").strip())
        source = "runtime" if self._runtime_key else ("env" if env_set else "none")
        where = f"key={self.spec.key!r}, base_url={self.base_url!r}, model={self.spec.remote_model!r}"
        return f"OpenAIHTTPBackend({where}, api_key={source})"

    @property
    def loaded(self) -> bool:
        return self._client is not None

    def load(self) -> None:
        if self._client is not None:
            return
        if not self.base_url:
            raise self._fail(f"{self.spec.name} has no base URL. Add it again with one like http://127.0.0.1:8000/v1.")
        self._client = self._given_client or httpx.Client()

    def unload(self) -> None:
        client, self._client = self._client, None
        if client is not None and client is not self._given_client:
            client.close()

    def memory_bytes(self) -> int:
        return 0

    def stream(
        self, messages: Sequence[Message], params: GenerationParams, cancel: threading.Event | None = None
    ) -> GenerationStream:
        self.load()
        clock = UsageClock()
        tally = _Tally()
        response = self._open_stream(self._body(messages, params))
        try:
            for text in self._read_stream(response, tally, cancel):
                clock.mark_token()
                yield text
        finally:
            response.close()
        usage = tally.usage or {}
        reported = isinstance(usage.get("completion_tokens"), int) and not tally.cancelled
        prompt_tokens = usage.get("prompt_tokens") if reported else None
        yield clock.finish(
            prompt_tokens=prompt_tokens if isinstance(prompt_tokens, int) else None,
            completion_tokens=usage["completion_tokens"] if reported else tally.chunks,
            price=self.spec.price,
            finish_reason="cancelled" if tally.cancelled else tally.finish_reason,
            tokens_estimated=not reported,
        )

    def test_connection(self) -> str:
        """A one-token request; a short success message, or EndpointError."""
        self.load()
        body: dict[str, Any] = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1, "stream": False}
        if self.spec.remote_model:
            body["model"] = self.spec.remote_model
        started = time.perf_counter()
        response = self._post(quirk_rules.apply(body, self.quirks), stream=False)
        list(self._read_whole_json(response, _Tally()))
        elapsed = time.perf_counter() - started
        return f"Connected: {self.spec.remote_model or self.base_url} answered in {elapsed:.2f} s."

    # ---- request side ----
    def _api_key(self) -> str | None:
        """The key for a request to ``self.url``; raises rather than send one to another origin."""
        if self._runtime_key is not None:
            origin = _origin_or_none(self.url)
            if origin is None or origin != self._key_origin:
                raise self._fail(
                    f"The API key typed for {self._key_origin} is not sent to {origin or self.url}. "
                    "Enter the key again for this endpoint."
                )
            return self._runtime_key.value
        if self.spec.api_key_env:
            return self._keys.env_key(self.spec.api_key_env, self.url)  # refused names and origins raise
        return None

    def _secret_values(self) -> list[str | None]:
        """Every value that must never appear in a message, whether or not it may be sent."""
        env = os.environ.get(self.spec.api_key_env) if self.spec.api_key_env else None
        runtime = self._runtime_key.value if self._runtime_key else None
        return [runtime, env, env.strip() if env else None, *referenced_values(self.spec.extra.get("headers") or {})]

    def _headers(self) -> dict[str, str]:
        """The connection's extra headers (references resolved, checked), then the key's header."""
        headers = resolve_headers(self.spec.extra.get("headers") or {}, self.url, self._keys)
        key = self._api_key()
        self._key_sent = bool(key)
        if key:
            key_header = self.spec.extra.get("key_header")  # Azure: "api-key"
            if key_header:
                headers[key_header] = key
            else:
                headers["Authorization"] = f"Bearer {key}"
        if not all(v.isascii() and v.isprintable() for v in headers.values()):
            # httpx would fail with an encoding error quoting part of the header value.
            raise self._fail("The API key has characters that cannot be sent (line breaks, non-ASCII). Enter it again.")
        return headers

    def _body(self, messages: Sequence[Message], params: GenerationParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "messages": chat_messages(messages, params),
            "stream": True,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
        }
        if self.spec.remote_model:
            body["model"] = self.spec.remote_model
        if self._send_stream_options:
            body["stream_options"] = {"include_usage": True}
        if params.seed is not None:
            body["seed"] = params.seed
        if params.stop:
            body["stop"] = list(params.stop)
        return quirk_rules.apply(body, self.quirks)

    def _send(self, body: dict[str, Any], *, stream: bool) -> httpx.Response:
        assert self._client is not None
        headers = self._headers()
        try:
            request = self._client.build_request("POST", self.url, json=body, headers=headers, timeout=self.timeout_s)
            # Never follow a redirect: it would carry the request, key included, to wherever it points.
            return self._client.send(request, stream=stream, follow_redirects=False)
        except httpx.TransportError as err:
            raise self._transport_error(err, chunks=None) from err

    def _open_stream(self, body: dict[str, Any]) -> httpx.Response:
        return self._post(body, stream=True)

    def _post(self, body: dict[str, Any], *, stream: bool) -> httpx.Response:
        """Send ``body``; on a 400 that says what the model needs, adapt and send again."""
        response = self._send(body, stream=stream)
        for _ in range(MAX_ADAPTATIONS):
            if response.status_code not in (400, 422):
                break
            error_text = self._read_body(response)
            adapted = self._adapt(body, error_text, response.status_code)
            if adapted is None:
                raise self._http_failure(response, error_text)
            body = adapted
            response = self._send(body, stream=stream)
            if response.is_success and "stream_options" not in body and stream:
                self._send_stream_options = False
        if not response.is_success:
            raise self._http_failure(response, self._read_body(response))
        return response

    def _adapt(self, body: dict[str, Any], error_text: str, status: int) -> dict[str, Any] | None:
        learned = quirk_rules.learn(error_text, body, self.quirks)
        if learned is not None:
            log.info("%s (%s) needs %s; retrying adapted", self.spec.name, self.spec.remote_model, learned)
            self.quirks = learned
            if self._remember_quirks is not None:
                try:
                    self._remember_quirks(dict(learned))
                except Exception:  # the answer matters more than remembering why it worked
                    log.exception("Could not save what %s needs", self.spec.key)
            return quirk_rules.apply(body, learned)
        if "stream_options" in body:
            log.info("%s rejected stream_options (HTTP %s); retrying without", self.base_url, status)
            return {k: v for k, v in body.items() if k != "stream_options"}
        return None

    def _read_body(self, response: httpx.Response) -> str:
        try:
            return response.read().decode("utf-8", "replace")
        except httpx.HTTPError:
            return ""
        finally:
            response.close()

    def _http_failure(self, response: httpx.Response, body: str) -> EndpointError:
        message = server_error_message(self._scrub(body))  # masked before it is cut short
        if response.is_redirect:
            message = f"it redirects to {response.headers.get('location')}; use that address instead."
        if response.status_code in (401, 403) and self._key_sent and self.spec.extra.get("connection"):
            # The key was good enough to list this connection's models, so say what else it may lack.
            said = t(
                "connections.key_cannot_generate",
                url=self.base_url,
                model=self.spec.remote_model or "",
                status=response.status_code,
                detail=message or "",
            )
            log.warning("%s (%s): %s", self.spec.name, self.spec.key, said)
            return EndpointError(said)
        return self._fail(
            http_error_message(
                response.status_code,
                message,
                base_url=self.base_url,
                model=self.spec.remote_model,
                key_sent=self._key_sent,
                key_env=self.spec.api_key_env,
            )
        )

    # ---- response side ----
    def _read_stream(self, response: httpx.Response, tally: _Tally, cancel: threading.Event | None) -> Iterator[str]:
        content_type = response.headers.get("content-type", "").lower()
        if "json" in content_type and "event-stream" not in content_type:
            yield from self._read_whole_json(response, tally)  # a server that ignored stream=true
            return
        try:
            for line in response.iter_lines():
                if cancel is not None and cancel.is_set():
                    tally.cancelled = True
                    return
                event = parse_sse_line(line)
                if event == SSE_DONE:
                    tally.done = True
                    break
                text = self._take_chunk(event, tally) if isinstance(event, dict) else ""
                if text:
                    tally.chunks += 1
                    yield text
        except NotOpenAIResponse as err:
            raise self._not_openai(err) from err
        except httpx.TransportError as err:
            raise self._transport_error(err, chunks=tally.chunks) from err
        if not tally.saw_choices:
            raise self._not_openai(NotOpenAIResponse("no chunk had choices"))
        if not tally.done and tally.finish_reason is None:
            raise self._fail(f"The connection to {self.base_url} broke off mid-answer after {tally.chunks} chunks.")

    def _take_chunk(self, payload: dict[str, Any], tally: _Tally) -> str:
        if payload.get("error"):
            said = server_error_message(self._scrub(json.dumps(payload))) or "an unknown error"
            raise self._fail(f"{self.base_url} reported an error mid-answer after {tally.chunks} chunks: {said}")
        if isinstance(payload.get("usage"), dict):
            tally.usage = payload["usage"]
        choices = payload.get("choices")
        if not isinstance(choices, list):
            if tally.usage is None:
                raise NotOpenAIResponse("a chunk without choices")
            return ""
        tally.saw_choices = True
        if not choices or not isinstance(choices[0], dict):
            return ""
        tally.finish_reason = choices[0].get("finish_reason") or tally.finish_reason
        content = (choices[0].get("delta") or {}).get("content")
        return content if isinstance(content, str) else ""

    def _read_whole_json(self, response: httpx.Response, tally: _Tally) -> Iterator[str]:
        try:
            payload = json.loads(response.read())
            choice = payload["choices"][0]
            text = choice["message"].get("content") or ""
        except httpx.TransportError as err:
            raise self._transport_error(err, chunks=0) from err
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
            raise self._not_openai(err) from err
        finally:
            response.close()
        tally.saw_choices = tally.done = True
        tally.finish_reason = choice.get("finish_reason")
        tally.usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else None
        if text:
            tally.chunks += 1
            yield text

    # ---- errors ----
    def _not_openai(self, err: Exception) -> EndpointError:
        log.info("Unexpected response from %s: %s", self.url, self._scrub(str(err)))
        hint = v1_hint(self.base_url)
        return self._fail(f"{self.url} answered with something that is not an OpenAI-compatible response.{hint}")

    def _transport_error(self, err: httpx.TransportError, *, chunks: int | None) -> EndpointError:
        if isinstance(err, httpx.TimeoutException):
            if chunks:
                return self._fail(f"{self.base_url} went silent for over {self.timeout_s:g} s after {chunks} chunks.")
            return self._fail(f"{self.base_url} did not answer within {self.timeout_s:g} s.")
        if isinstance(err, httpx.ConnectError):
            return self._fail(connect_error_message(err, self.base_url))
        if chunks is not None:
            return self._fail(f"The connection to {self.base_url} broke off mid-answer after {chunks} chunks.")
        return self._fail(f"{self.base_url} closed the connection without answering ({type(err).__name__}).")

    def _scrub(self, text: str) -> str:
        return mask_secrets(text, self._secret_values())  # a server may echo the key back

    def _fail(self, message: str) -> EndpointError:
        message = self._scrub(message)
        log.warning("%s (%s): %s", self.spec.name, self.spec.key, message)
        return EndpointError(message)
