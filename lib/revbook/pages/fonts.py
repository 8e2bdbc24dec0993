"""Japanese on every machine: a page names Japanese-capable fonts, and carries the glyphs it uses.

Company names and industries are often Japanese. A browser with a Japanese system font (Hiragino,
Yu Gothic, Meiryo, Noto Sans JP) uses it; one without shows tofu (□). So each page also embeds a
subset of the bundled IPAexGothic (matplotlib-fontja, which the charts use) with only the characters
the page holds, a few KB, as the last font of the stack: the page stays one self-contained file.
The subset is a derived font under the IPA Font License, so it goes by another name ("revbook-ja").
"""

from __future__ import annotations

import base64
import io
import re
from functools import cache
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

#: The font stack of pages: Japanese-capable fonts, then the embedded subset, then the system's UI font.
#: The Japanese ones come first: after system-ui, Chromium on Linux shows a run of kana and kanji as
#: tofu although a later font has every glyph.
FONT_STACK = ('"Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic", YuGothic, Meiryo, "Noto Sans JP", '
              '"Noto Sans CJK JP", IPAexGothic, revbook-ja, system-ui, -apple-system, "Segoe UI", sans-serif')
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


@cache
def _font_path() -> Path:
    import matplotlib_fontja

    return Path(matplotlib_fontja.__file__).parent / "fonts" / "ipaexg.ttf"


@cache
def _coverage() -> frozenset[int]:
    with TTFont(_font_path(), lazy=True) as font:
        return frozenset(font.getBestCmap())


def _subset(characters: str) -> bytes:
    options = subset.Options()
    options.flavor, options.hinting, options.layout_features, options.name_IDs = "woff", False, [], ["*"]
    with TTFont(_font_path(), lazy=True) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=characters)
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
    return out.getvalue()


def style(page: str) -> str:
    """A <style> that sets the page font stack and embeds the glyphs of the non-Latin characters in
    `page` (its text, not its markup) that the bundled font has; only the stack if there are none."""
    text = _TAGS.sub(" ", page)
    characters = "".join(sorted({c for c in text if ord(c) > 0x2FF and ord(c) in _coverage()}))
    face = ""
    if characters:
        data = base64.b64encode(_subset(characters)).decode("ascii")
        face = f'@font-face {{ font-family: revbook-ja; src: url(data:font/woff;base64,{data}) format("woff"); }}\n'
    stack = (f":root {{ --jp-ui-font-family: {FONT_STACK}; --jp-content-font-family: {FONT_STACK}; }}\n"
             f"body, .jp-Notebook, table, .rb-banner {{ font-family: {FONT_STACK}; }}\n")
    return f"<style>\n{face}{stack}</style>"


def embed(page: str) -> str:
    """`page` (an HTML document) with `style(page)` at the end of its head."""
    return page.replace("</head>", style(page) + "\n</head>", 1)
