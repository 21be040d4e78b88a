"""Azure OpenAI's URLs: one resource, many deployments, an ``api-version`` on every request.

A classic Azure URL names the deployment and the API version:
``https://RESOURCE.openai.azure.com/openai/deployments/DEPLOYMENT/chat/completions?api-version=2024-10-21``,
and the key goes in an ``api-key`` header, not ``Authorization: Bearer``. Azure's newer v1 API
(``https://RESOURCE.openai.azure.com/openai/v1``) takes the deployment as the ``model`` and needs
no ``api-version``. A connection keeps the resource (its origin), the API version, and, for a
pasted deployment URL, that deployment as a first model.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from playground.errors import InvalidInput
from playground.i18n import t
from playground.models.secrets import origin_of

KEY_HEADER = "api-key"
DEFAULT_API_VERSION = "2024-10-21"
# The data-plane call that lists a resource's deployments exists only in this older version.
LIST_API_VERSION = "2022-12-01"
V1_PATH = "/openai/v1"


@dataclass(frozen=True)
class AzureTarget:
    resource: str  # https://RESOURCE.openai.azure.com
    api_version: str | None
    deployment: str | None = None
    v1: bool = False

    @property
    def base_url(self) -> str:
        """What the connection stores: the resource, or its v1 API."""
        return self.resource + (V1_PATH if self.v1 else "")


def parse(raw: str, api_version: str = "") -> AzureTarget:
    """An Azure address (resource, deployment URL or v1 base) with its API version; refuses a
    classic address with no ``api-version``, naming what to add."""
    url = (raw or "").strip()
    try:
        resource = origin_of(url)
    except ValueError as err:
        raise InvalidInput(t("models.not_web_address", url=repr(raw))) from err
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise InvalidInput(t("models.url_credentials"))
    path = parts.path.rstrip("/")
    if path.endswith("/chat/completions"):
        path = path[: -len("/chat/completions")]
    version = (api_version or "").strip() or (parse_qs(parts.query).get("api-version") or [""])[0].strip()
    if path == V1_PATH or path.startswith(V1_PATH + "/"):
        return AzureTarget(resource, version or None, v1=True)
    deployment = None
    marker = "/openai/deployments/"
    if marker in path:
        deployment = path.split(marker, 1)[1].split("/")[0] or None
    elif path not in ("", "/openai"):
        raise InvalidInput(t("connections.azure_bad_path", url=url[:200]))
    if not version:
        raise InvalidInput(t("connections.azure_no_api_version", version=DEFAULT_API_VERSION))
    if not all(c.isalnum() or c in "-." for c in version):
        raise InvalidInput(t("connections.azure_bad_api_version", version=version[:40]))
    return AzureTarget(resource, version, deployment)


def deployment_base(resource: str, deployment: str) -> str:
    """The base URL of one deployment: ``/chat/completions`` goes after it."""
    return f"{resource}/openai/deployments/{quote(deployment, safe='')}"


def deployments_url(resource: str) -> str:
    return f"{resource}/openai/deployments?api-version={LIST_API_VERSION}"
