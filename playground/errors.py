"""Errors whose message is meant for the person using the app.

Anything raised as a ``UserFacingError`` carries a plain-language sentence that the UI shows
as is; every other exception is a bug and is shown as a generic failure and logged.

The sentence is either a catalogue ``Text`` (``raise InvalidInput(t("<area>.<name>", ...))``),
shown in the reader's language, or a plain string (English only: text not yet in the
catalogue). ``str(err)`` is always the English sentence, for logs and API callers.
"""

from __future__ import annotations

from playground.i18n import DEFAULT_LANGUAGE, Text, render


class UserFacingError(Exception):
    """An error the user caused or can fix; ``message_in(language)`` is shown in the UI."""

    def __init__(self, message: object = "", *args: object):
        self.message = message
        super().__init__(str(message), *args)

    def message_in(self, language: str = DEFAULT_LANGUAGE) -> str:
        return render(self.message, language) if isinstance(self.message, Text) else str(self)


class InvalidInput(UserFacingError):
    """A form value the user typed or uploaded is not usable."""


class ModelNotFound(UserFacingError):
    """The model key names nothing the registry knows (anymore)."""


class ModelLoadError(UserFacingError):
    """A model could not be loaded: bad file, missing weights, out of memory."""


class EndpointError(UserFacingError):
    """An OpenAI-compatible endpoint refused, timed out, rejected the key or sent garbage."""


class GenerationError(UserFacingError):
    """Generation failed after the model had loaded."""


class StorageError(UserFacingError):
    """The database cannot be opened or migrated (e.g. a corrupt file)."""
