"""Reading Bot API parameters the way the official server does.

Parameters may come from the query string, a JSON body, a urlencoded form or a multipart form,
and are merged in that order. Form posts carry every value as a string (python-telegram-bot sends
nested objects such as ``reply_markup`` as JSON strings); JSON bodies carry typed values. The
getters below accept both, so handlers never care how a value arrived.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.datastructures import UploadFile
from starlette.requests import Request

from emulator.errors import ApiError, bad_request
from emulator.files import MAX_UPLOAD_BYTES, Upload

MAX_FORM_FIELD_BYTES = 1024 * 1024


class Params:
    def __init__(
        self, values: Mapping[str, object], uploads: Mapping[str, Upload] | None = None
    ) -> None:
        self._values = dict(values)
        self._uploads = dict(uploads or {})

    @classmethod
    async def from_request(cls, request: Request) -> Params:
        values: dict[str, object] = dict(request.query_params)
        uploads: dict[str, Upload] = {}
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/json":
            values.update(await _json_body(request))
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            async with request.form(max_part_size=MAX_FORM_FIELD_BYTES) as form:
                for key, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        uploads[key] = await _read_upload(value)
                    else:
                        values[key] = value
        return cls(values, uploads)

    def has(self, name: str) -> bool:
        return name in self._values or name in self._uploads

    def raw(self, name: str) -> object | None:
        return self._values.get(name)

    def text(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """Like the server's to_integer(): garbage reads as 0, an absent value as ``default``."""
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value)
        try:
            return int(float(str(value).strip()))
        except ValueError:
            return 0

    def number(self, name: str, default: float = 0.0) -> float:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(str(value))
        except ValueError:
            return default

    def flag(self, name: str) -> bool:
        value = self._values.get(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        return isinstance(value, str) and value.strip().lower() in ("true", "1")

    def upload(self, name: str) -> Upload | None:
        return self._uploads.get(name)


async def _json_body(request: Request) -> dict[str, object]:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        raise bad_request("can't parse JSON encoded request") from None
    if not isinstance(data, dict):
        raise bad_request("can't parse JSON encoded request")
    return data


async def _read_upload(part: UploadFile) -> Upload:
    data = await part.read()
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "Request Entity Too Large")
    return Upload(filename=part.filename, content_type=part.content_type, data=data)
