"""Errors whose message is meant for the person using the app.

Anything raised as a ``UserFacingError`` carries a plain-language sentence that the UI shows
as is; every other exception is a bug and is shown as a generic failure and logged.
"""


class UserFacingError(Exception):
    """An error the user caused or can fix; ``str(err)`` is shown in the UI."""


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
