"""Reading order for two-column resume pages: a sidebar beside the main column.

pdfplumber reads a page line by line across its whole width, so a two-column resume comes out
with each line of the sidebar glued to a line of the main column ("Designed a fraud detection
pipeline processing Database Optimization"). The analysis then quotes such merged lines as
evidence and judges words that belong to neither. Here a page is read as its columns instead:
the full-width header first (name, contact line), then the left column, then the right one.

Pure functions over pdfplumber's words and chars; no I/O.

A gutter is a vertical band, wider than the space between words, that no word of the page
body crosses. Only the header (the top of the page) may cross it; the body below must have
text on both sides. A left column of dates beside the entries they date (moderncv's layout) is
not a column of its own: splitting it off would part every job from its dates.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

# Half the gutter's width, in points: a gap of 8 pt is wider than a word space at resume sizes.
_GUTTER_HALF_WIDTH = 4.0
# Where a gutter may lie: not in the page margins.
_GUTTER_BAND = (0.2, 0.8)
# The header, which may span both columns, ends in the top third of the page.
_HEADER_MAX_SHARE = 0.35
# Each column holds at least this share of the body's words (a skills sidebar is ~10 %).
_COLUMN_MIN_SHARE = 0.08
_MIN_WORDS = 40
# Beyond any resume page (US Letter is 612 x 792 pt, a dense page ~1,000 words): a crafted page
# this large is read across its width as before, not searched for a gutter.
_MAX_WIDTH = 2000.0
_MAX_WORDS = 5000
_DATE_WORD_RE = re.compile(
    r"^(?:\W*\d[\d/.\-\u2013\u2014]*\W*|[\-\u2013\u2014|]|present|presente|actual|now|current|today"
    r"|jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july"
    r"|august|september|october|november|december|ene|abr|ago|dic|enero|febrero|marzo|abril|mayo"
    r"|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)\.?,?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Columns:
    gutter: float  # x of the gutter's middle
    header_bottom: float  # y above which the page is read across its whole width


def find_columns(words: list[dict[str, Any]], width: float, height: float) -> Columns | None:
    """The page's two columns, from pdfplumber's ``extract_words``; None for a one-column page."""
    if not _MIN_WORDS <= len(words) <= _MAX_WORDS or not 0 < width <= _MAX_WIDTH:
        return None
    # A crafted page may place text at infinite or NaN coordinates: such a page is read across
    # its width, as before, rather than failing a readable upload.
    if not all(math.isfinite(word[key]) for word in words for key in ("x0", "x1", "top", "bottom")):
        return None
    # For every whole point across the page: the lowest bottom edge of a word crossing it there.
    crossed_down_to = [0.0] * (int(width) + 2)
    for word in words:
        start = max(0, int(word["x0"] - _GUTTER_HALF_WIDTH))
        end = min(len(crossed_down_to) - 1, int(word["x1"] + _GUTTER_HALF_WIDTH) + 1)
        for x in range(start, end):
            if word["bottom"] > crossed_down_to[x]:
                crossed_down_to[x] = word["bottom"]
    low, high = int(_GUTTER_BAND[0] * width), int(_GUTTER_BAND[1] * width)
    candidates = [x for x in range(low, high) if crossed_down_to[x] <= _HEADER_MAX_SHARE * height]
    if not candidates:
        return None
    header_bottom = min(crossed_down_to[x] for x in candidates)
    gutter = _middle_of_widest_run([x for x in candidates if crossed_down_to[x] == header_bottom])
    body = [word for word in words if word["top"] >= header_bottom]
    left = [word for word in body if word["x1"] <= gutter]
    right = [word for word in body if word["x0"] >= gutter]
    if min(len(left), len(right)) < _COLUMN_MIN_SHARE * len(body):
        return None
    narrow = min(left, right, key=len)
    if sum(1 for word in narrow if _DATE_WORD_RE.match(word["text"])) >= 0.5 * len(narrow):
        return None  # a column of dates beside the entries they date
    return Columns(gutter=float(gutter), header_bottom=header_bottom)


def _middle_of_widest_run(xs: list[int]) -> int:
    best_start = best_end = start = xs[0]
    for previous, x in zip(xs, xs[1:]):
        if x != previous + 1:
            start = x
        if x - start > best_end - best_start:
            best_start, best_end = start, x
    return (best_start + best_end) // 2


def region_of(char: dict[str, Any], columns: Columns) -> int:
    """0 for the header, 1 for the left column, 2 for the right: each char in exactly one, by
    its centre, so no text is lost or doubled at a boundary."""
    if (char["top"] + char["bottom"]) / 2 < columns.header_bottom:
        return 0
    return 1 if (char["x0"] + char["x1"]) / 2 < columns.gutter else 2


def page_text(page: Any, *, x_tolerance_ratio: float) -> str:
    """A pdfplumber page's text in reading order: by column when it has two."""
    columns = find_columns(page.extract_words(x_tolerance_ratio=x_tolerance_ratio), page.width, page.height)
    if columns is None:
        return page.extract_text(x_tolerance_ratio=x_tolerance_ratio) or ""
    parts = []
    for region in (0, 1, 2):
        part = page.filter(lambda obj, region=region: obj.get("object_type") != "char"
                           or region_of(obj, columns) == region)
        parts.append(part.extract_text(x_tolerance_ratio=x_tolerance_ratio) or "")
    return "\n".join(part for part in parts if part.strip())
