"""libical (the C library behind Evolution, KDE's and GNOME's calendars and many servers) as a
strict second opinion on our feeds: its parser and ``icalrestriction_check``, which applies the
RFC 5545/5546 rules on how often each property may appear (and, with a METHOD, the iTIP rules).

Called through ctypes, so nothing needs building: Debian's ``libical-dev`` (``.ci/run`` installs
it) brings ``libical.so``. Without it the tests that use it are skipped, and under CI=true such a
skip fails (tests/conftest.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pytest

SKIP_LIBICAL = "libical not installed: apt-get install libical-dev (.ci/run does)"


@functools.cache
def _library() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("ical")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.icalparser_parse_string.restype = ctypes.c_void_p
    lib.icalparser_parse_string.argtypes = [ctypes.c_char_p]
    lib.icalrestriction_check.restype = ctypes.c_int
    lib.icalrestriction_check.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_count_errors.restype = ctypes.c_int
    lib.icalcomponent_count_errors.argtypes = [ctypes.c_void_p]
    # The non-_r variant returns a buffer libical owns (its ring of temporary buffers).
    lib.icalcomponent_as_ical_string.restype = ctypes.c_char_p
    lib.icalcomponent_as_ical_string.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_free.restype = None
    lib.icalcomponent_free.argtypes = [ctypes.c_void_p]
    return lib


def libical_problems(body: bytes) -> list[str]:
    """What libical objects to ``body``: its X-LIC-ERROR lines, empty when all is well."""
    lib = _library()
    if lib is None:
        pytest.skip(SKIP_LIBICAL)
    component = lib.icalparser_parse_string(body)
    if not component:
        return ["libical could not parse the document at all"]
    try:
        parsed_errors = lib.icalcomponent_count_errors(component)
        valid = lib.icalrestriction_check(component)
        errors = lib.icalcomponent_count_errors(component)
        text = lib.icalcomponent_as_ical_string(component).decode("utf-8")
    finally:
        lib.icalcomponent_free(component)
    lines = text.replace("\r\n ", "").replace("\n ", "").splitlines()
    problems = [line for line in lines if line.startswith("X-LIC-ERROR")]
    if (parsed_errors or errors or not valid) and not problems:
        problems.append(f"restriction check failed ({errors} errors)")
    return problems
