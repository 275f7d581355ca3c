"""OpenAI's moderation endpoint, the client content screening (``coauthor.screening``) uses
when OpenAI is the configured model provider.

``OpenAIModerator`` sends the passages to OpenAI's moderation endpoint (``POST /v1/moderations``,
``omni-moderation-latest``) through the official ``openai`` SDK, at most 32 per request, and maps
OpenAI's categories onto ours (``coauthor.core.policy.CATEGORIES``). OpenAI has no category for
political campaigning or spam, so the offline checker screens those two in the same run
(``coauthor.screening.screen``). Its failures become ``ProviderError`` sentences through the one
translation of SDK errors (``coauthor.ai.errors.translate``), redacted of the key. The SDK is
imported when a moderator is made, not before: commands that screen offline never load it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from coauthor.ai.errors import (
    FailureKind,
    ProviderError,
    SdkWording,
    insecure_url,
    retry_wait,
    status_of,
    translate,
)
from coauthor.core.policy import Hit

if TYPE_CHECKING:
    from coauthor.ai.service import ProviderConfig

logger = logging.getLogger(__name__)

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_MODEL",
    "OPENAI_CATEGORY_MAP",
    "OpenAIModerator",
    "moderator_for",
]

DEFAULT_MODEL = "omni-moderation-latest"
BATCH_SIZE = 32

OPENAI_CATEGORY_MAP: dict[str, str] = {
    "harassment": "harassment",
    "hate": "hate",
    "self-harm": "self-harm",
    "sexual": "sexual",
    "violence": "violence",
    "illicit": "other-harm",
}
"""OpenAI's category families (the part before ``/``) and ours; any other becomes other-harm."""


_WHERE = "the moderation endpoint at {host}"
_WORDING = SdkWording(
    auth=f"The key was refused by {_WHERE} (HTTP {{status}}); check the OpenAI key in the model "
    "settings.",
    rate_limit=f"{_WHERE.capitalize()} is limiting requests (HTTP 429) and still refused after "
    "{tries}; wait a minute and screen again.",
    timeout=f"{_WHERE.capitalize()} did not answer within {{timeout}} seconds.",
    connection="Cannot connect to the moderation endpoint at {base_url}: {cause}. Is the "
    "computer online, and is the address right?",
    server=f"{_WHERE.capitalize()} failed with HTTP {{status}} after {{tries}}; the service may "
    "be down.",
    not_found="{host} has no moderation endpoint (HTTP 404: {message}).",
    bad_request=f"{_WHERE.capitalize()} refused the request (HTTP {{status}}): {{message}}.",
    malformed=f"{_WHERE.capitalize()} sent a reply Coauthor cannot read (it is not JSON).",
    unexpected=f"Unexpected reply from {_WHERE}: {{exc}}.",
)
"""What the moderation client says for each failure of the SDK (``errors.translate``)."""


class OpenAIModerator:
    """OpenAI's moderation endpoint through the official SDK, mapped onto our categories."""

    source = "openai"

    def __init__(
        self,
        base_url: str = "https://api.openai.com/v1",
        api_key: str | None = None,
        model: str = DEFAULT_MODEL,
        *,
        timeout: float = 30.0,
        max_attempts: int = 3,
        backoff: float = 0.5,
        max_wait: float = 10.0,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_wait = max_wait
        self.batch_size = max(1, min(batch_size, BATCH_SIZE))
        self.requests = 0
        """Requests sent, retries included."""
        self.retries: list[str] = []
        """One line per retry: what failed and how long Coauthor waited."""
        self._key = api_key
        import openai  # on use: commands that screen offline never load the SDK

        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or "not-needed",
            timeout=openai.Timeout(timeout, connect=min(10.0, timeout)),
            max_retries=0,  # retries are ours, bounded and explained
        )

    @property
    def host(self) -> str:
        return urlparse(self.base_url).netloc or self.base_url

    def describe(self) -> str:
        return f"OpenAI's moderation endpoint ({self.model} at {self.host})"

    # -- errors -----------------------------------------------------------------------------

    def _error(
        self, kind: FailureKind, message: str, *, status: int | None = None
    ) -> ProviderError:
        """A ``ProviderError`` whose sentence is redacted of this moderator's key."""
        return ProviderError(kind, message, status=status, secrets=(self._key,))

    def refusal(self) -> str | None:
        """Why the key must not be sent to this endpoint (plain ``http://`` to another
        computer), or None."""
        return insecure_url(self.base_url, self._key)

    def _translate(self, exc: Exception) -> ProviderError:
        return translate(
            exc,
            _WORDING,
            host=self.host,
            base_url=self.base_url,
            tries=f"{self.max_attempts} tr{'ies' if self.max_attempts != 1 else 'y'}",
            timeout=self.timeout,
            key=self._key,
        )

    def _retry_wait(self, exc: Exception, attempt: int) -> float | None:
        return retry_wait(
            exc,
            attempt,
            max_attempts=self.max_attempts,
            backoff=self.backoff,
            max_wait=self.max_wait,
        )

    # -- calls ------------------------------------------------------------------------------

    def _post(self, texts: list[str]) -> Any:
        refusal = self.refusal()
        if refusal is not None:
            raise self._error(FailureKind.INSECURE, refusal)
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                raw = self._client.moderations.with_raw_response.create(
                    model=self.model, input=texts
                )
                return json.loads(raw.http_response.content)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a ProviderError
                wait = self._retry_wait(exc, attempt)
                if wait is None:
                    raise self._translate(exc) from None
                status = status_of(exc)
                self.retries.append(f"attempt {attempt}: HTTP {status}, waited {wait:g} s")
                logger.info(
                    "moderation attempt %d failed (HTTP %s from %s); retrying in %g s",
                    attempt,
                    status,
                    self.host,
                    wait,
                )
                time.sleep(wait)

    def classify_batch(self, texts: Sequence[str]) -> list[list[Hit]]:
        """The hits of each text (at most ``batch_size``); raises ``ProviderError``."""
        texts = list(texts)
        if not texts:
            return []
        if len(texts) > self.batch_size:
            raise ValueError(f"at most {self.batch_size} texts per request, not {len(texts)}")
        data = self._post(texts)
        results = data.get("results") if isinstance(data, dict) else None
        where = f"The moderation endpoint at {self.host}"
        if not isinstance(results, list):
            raise ProviderError(
                FailureKind.MALFORMED,
                f"{where} sent a reply Coauthor cannot read (it has no list of results).",
            )
        if len(results) != len(texts):
            raise ProviderError(
                FailureKind.MALFORMED,
                f"{where} sent a reply Coauthor cannot read ({len(results)} results for "
                f"{len(texts)} passages).",
            )
        return [self._hits(result, where) for result in results]

    @staticmethod
    def _hits(result: object, where: str) -> list[Hit]:
        categories = result.get("categories") if isinstance(result, dict) else None
        if not isinstance(result, dict) or not isinstance(categories, dict):
            raise ProviderError(
                FailureKind.MALFORMED,
                f"{where} sent a reply Coauthor cannot read (a result without categories).",
            )
        scores = result.get("category_scores")
        scores = scores if isinstance(scores, dict) else {}
        hits: list[Hit] = []
        for name, value in categories.items():
            if value is not True:
                continue
            ours = OPENAI_CATEGORY_MAP.get(str(name).split("/", 1)[0], "other-harm")
            score = scores.get(name)
            detail = f" {score:.2f}" if isinstance(score, int | float) else ""
            hits.append(Hit(ours, f"OpenAI flagged it as {name}{detail}", "openai"))
        if result.get("flagged") is True and not hits:
            hits.append(Hit("other-harm", "OpenAI flagged it without naming a category", "openai"))
        return hits

    def close(self) -> None:
        self._client.close()


def moderator_for(config: ProviderConfig, *, timeout: float = 30.0) -> OpenAIModerator | None:
    """The moderation endpoint for these settings, or None to screen offline.

    Only OpenAI itself (with a key) offers the moderation endpoint; the embedded model and
    self-hosted compatible servers do not, so they screen offline.
    """
    from coauthor.ai import keys
    from coauthor.ai.service import OPENAI_URL, ProviderKind

    if config.kind is not ProviderKind.OPENAI:
        return None
    key, _ = keys.get_key("openai")
    if not key:
        return None
    return OpenAIModerator(config.base_url or OPENAI_URL, key, timeout=timeout)


# -- one screening run ----------------------------------------------------------------------
