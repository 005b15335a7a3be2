"""The API's JSON parser: the body's size and nesting are checked before parsing.

Python's JSON decoder recurses once per nesting level, so a body of a few
thousand ``[`` raised RecursionError inside DRF's JSONParser: a 500 page and an
error mail instead of a 400. A referral nests three levels at most; anything
past ``MAX_DEPTH`` is refused as a 400 problem before the decoder sees it.
"""

import io
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 20
_TOKEN = re.compile(r'["\[\]{}]')
# The rest of a JSON string after its opening quote, escapes included (possessive: no backtracking).
_STRING_REST = re.compile(r'(?:[^"\\]|\\.)*+"', re.DOTALL)


def json_depth_exceeds(text: str, limit: int) -> bool:
    """True if ``text``'s arrays and objects nest deeper than ``limit``. One pass
    over the text, skipping strings (brackets inside them do not nest), and it
    stops at the first level too deep. Malformed text is left to the decoder."""
    depth, pos = 0, 0
    while (m := _TOKEN.search(text, pos)) is not None:
        c = m.group()
        if c == '"':
            rest = _STRING_REST.match(text, m.end())
            if rest is None:
                return False  # an unterminated string: the decoder refuses it
            pos = rest.end()
            continue
        depth += 1 if c in "[{" else -1
        if depth > limit:
            return True
        pos = m.end()
    return False


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ParseError(f"The body is larger than {limit} bytes.")
        try:
            text = raw.decode((parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET)
        except (UnicodeDecodeError, LookupError):
            raise ParseError("The body is not valid UTF-8 text.") from None
        if json_depth_exceeds(text, MAX_DEPTH):
            raise ParseError(f"The JSON nests more than {MAX_DEPTH} levels of arrays and objects.")
        return super().parse(io.BytesIO(raw), media_type, parser_context)
