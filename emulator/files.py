"""File storage: ids, uploads, image sizes, and the PhotoSize ladder Telegram returns.

Telegram re-encodes photos into several sizes; the emulator does not resize anything, it reports
the sizes Telegram would (longest side 90, 320, 800, 1280, never larger than the original) and
serves the original bytes for each of them.
"""

from __future__ import annotations

import base64
import mimetypes
import struct
from dataclasses import dataclass
from random import Random
from typing import Literal

from emulator.state import StoredFile

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # sendDocument
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile
PHOTO_SIDES = (90, 320, 800, 1280)

FileKind = Literal["document", "photo", "sticker"]
_KIND_TAG = {"document": b"\x05", "photo": b"\x02", "sticker": b"\x08"}
_FOLDER = {"document": "documents", "photo": "photos", "sticker": "stickers"}


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


class FileStore:
    def __init__(self, rng: Random) -> None:
        self._rng = rng
        self._counter = 0
        self.by_id: dict[str, StoredFile] = {}

    def get(self, file_id: str) -> StoredFile | None:
        return self.by_id.get(file_id)

    def add(
        self,
        kind: FileKind,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int = 0,
        height: int = 0,
        emoji: str | None = None,
        url: str | None = None,
    ) -> StoredFile:
        self._counter += 1
        unique = struct.pack(">IQ", self._counter, self._rng.getrandbits(64))
        # Real ids are opaque base64url strings; a kind byte up front keeps ours recognisable.
        file_id = _b64(_KIND_TAG[kind] + b"\x00AgADAQAD" + unique + self._rng.randbytes(8))
        file_unique_id = "AgAD" + _b64(unique)[:12]
        suffix = _extension(file_name, mime_type, kind)
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=file_unique_id,
            kind=kind,
            data=data,
            file_path=f"{_FOLDER[kind]}/file_{self._counter}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
            emoji=emoji,
            url=url,
        )
        self.by_id[file_id] = stored
        return stored

    def by_path(self, file_path: str) -> StoredFile | None:
        return next((f for f in self.by_id.values() if f.file_path == file_path), None)

    def add_photo(self, data: bytes, width: int, height: int) -> list[StoredFile]:
        """The sizes Telegram would make of one photo, smallest first."""
        sizes: list[StoredFile] = []
        longest = max(width, height, 1)
        for side in PHOTO_SIDES:
            scale = min(1.0, side / longest)
            w, h = max(1, round(width * scale)), max(1, round(height * scale))
            sizes.append(self.add("photo", data, mime_type="image/jpeg", width=w, height=h))
            if scale == 1.0:
                break
        return sizes


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _extension(file_name: str | None, mime_type: str | None, kind: FileKind) -> str:
    if file_name and "." in file_name:
        return "." + file_name.rsplit(".", 1)[1]
    if kind == "photo":
        return ".jpg"
    if kind == "sticker":
        return ".webp"
    return (mimetypes.guess_extension(mime_type) if mime_type else None) or ""


def guess_mime_type(file_name: str | None) -> str | None:
    if not file_name:
        return None
    return mimetypes.guess_type(file_name)[0]


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG or WebP image; None if it is not one of those."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and data[12:16] == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the JPEG segments to the first start-of-frame marker, which holds the size."""
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        is_frame = 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC)
        if is_frame:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + length
    return None
