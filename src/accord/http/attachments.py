"""An attachment as the browser or client receives it: shown in the page where that is safe (images, PDF, plain
text), downloaded otherwise, named as its message names it (RFC 6266), never run as a page of this site."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from urllib.parse import quote

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import Response

from accord.errors import InvalidInput
from accord.i18n import _

# What a browser may show in place: none of these can run script in this site's origin (text is sent as plain text).
INLINE_MEDIA_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"})
# The file alone, in a sandbox, with nothing it could load; a PDF needs the browser's viewer, which a sandbox blocks.
_CONTAINED = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def attachment_response(data: bytes, media_type: str, name: str, *, inline: bool) -> Response:
    essence = media_type.split(";")[0].strip().lower()
    if essence.startswith("text/"):
        try:
            data.decode("utf-8")
            essence, media_type = "text/plain", "text/plain; charset=utf-8"  # HTML or SVG-as-text is never rendered
        except UnicodeDecodeError:
            inline = False
    shown = inline and essence in INLINE_MEDIA_TYPES
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "_")
    disposition = f"{'inline' if shown else 'attachment'}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    policy = _CONTAINED if essence == "application/pdf" else f"{_CONTAINED}; sandbox"
    headers = {
        "Content-Disposition": disposition,
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(data, media_type=media_type, headers=headers)


# Beside the file, what a form's boundaries and part headers may take.
MULTIPART_OVERHEAD_BYTES = 16 * 1024


async def file_part(headers: Headers, body: bytes) -> tuple[bytes, str, str]:
    """The one file part of a multipart/form-data body (RFC 7578): its bytes, media type and file name."""

    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    try:
        form = await MultiPartParser(headers, stream()).parse()
    except MultiPartException as exc:
        raise InvalidInput(_("the form cannot be read: {reason}").format(reason=exc.message)) from exc
    files = [value for _key, value in form.multi_items() if isinstance(value, UploadFile)]
    if len(files) != 1:
        raise InvalidInput(
            _("send one file part (curl -F file=@report.pdf); this form has {count}").format(count=len(files))
        )
    upload = files[0]
    data = await upload.read()
    if not data:
        raise InvalidInput(_("the file part is empty"))
    return data, upload.content_type or "application/octet-stream", upload.filename or "attachment"
