"""The only way WeasyPrint may load anything while rendering a report.

A report shows text a claimant typed; if any of it ever reached the HTML as markup, a
stylesheet ``@import`` or an ``<img src>`` could make the renderer read local files or
call the network. This fetcher answers ``data:`` URIs, files inside the app's own
template and static folders and the evidence images prepared in memory for this report
(``preview:N``), and refuses everything else, counting what it refused so a test can
prove nothing was fetched.
"""
from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse


#: the scheme of an evidence image prepared for the report being rendered
PREVIEW_SCHEME = "preview"


class RefusedFetch(ValueError):
    """A URL the report renderer may not load."""


class ReportFetcher(URLFetcher):
    """Serves ``data:`` URIs, files under ``allowed_roots`` and ``previews``; refuses the rest."""

    def __init__(self, allowed_roots: list[Path], **kwargs):
        super().__init__(allowed_protocols=("data", "file", PREVIEW_SCHEME), allow_redirects=False, **kwargs)
        self.allowed_roots = [Path(root).resolve() for root in allowed_roots]
        #: every URL asked for, refused or not, in order
        self.requested: list[str] = []
        #: the URLs refused
        self.refused: list[str] = []
        #: ``preview:N`` -> the future of its JPEG bytes, or of None (no image after all)
        self.previews: dict[str, Future] = {}

    def fetch(self, url, headers=None):
        self.requested.append(url if not url.startswith("data:") else url[:40])
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == PREVIEW_SCHEME and url in self.previews:
            try:
                preview = self.previews[url].result()  # decoded in another thread, waited for here
            except Exception as error:  # storage or decoder failure: stop the report, do not hide it
                raise FatalURLFetchingError(f"could not prepare {url}: {error}") from error
            if preview is None:
                raise RefusedFetch(f"no image to show for {url}")  # WeasyPrint prints the alt text
            return URLFetcherResponse(url, preview, {"Content-Type": "image/jpeg"})
        if scheme == "file":
            path = self._own_file(url)
            if path is not None:
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": _media_type(path)})
        self.refused.append(url)
        raise RefusedFetch(f"reports may not load {url[:200]}")

    def _own_file(self, url: str) -> Path | None:
        """The file a ``file://`` URL names, if it lies inside an allowed root (symlinks resolved)."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return None
        path = Path(unquote(parts.path)).resolve()
        if path.is_file() and any(path.is_relative_to(root) for root in self.allowed_roots):
            return path
        return None


def _media_type(path: Path) -> str:
    return {".css": "text/css", ".png": "image/png", ".jpg": "image/jpeg", ".svg": "image/svg+xml"}.get(
        path.suffix.lower(), "application/octet-stream")
