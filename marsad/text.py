"""Arabic-aware word tokenisation and sentence splitting, always with character offsets.

Every stage that needs words or sentences (the validator, the converters, the model's
alignment of characters to words to sub-words) uses these functions, so they agree on what a
word is. A word is a maximal run of letters, digits and combining marks that starts with a
letter or digit: Arabic letters with their diacritics, tatweel (a modifier letter), Eastern
Arabic digits ٠-٩ and Latin letters alike. A mark belongs to the character before it, so the
variation selector of an emoji (⭕️) stays with the emoji instead of starting a word. Every
other visible character (، ؛ ؟ quotes, brackets, the period) is a token of its own, and white
space separates tokens without being one.
"""

from __future__ import annotations

import regex

Span = tuple[int, int]

_WORD_CHAR = regex.compile(r"[\p{L}\p{N}\p{M}]")
_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}\p{M}]*")
# Invisible format characters (RLM, ZWNJ, ...: category Cf) are neither words nor tokens, so a
# CoNLL file never holds an invisible token.
_TOKEN = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}\p{M}]*|[^\s\p{L}\p{N}\p{Cf}]\p{M}*")
# A sentence ends after . ! ? ؟ or … (with any closing quotes or brackets), or at a line break.
# A period between two digits (3.5) is a decimal point, not the end of a sentence.
_SENTENCE_END = regex.compile(r"(?:(?<!\d)\.|\.(?!\d)|[!?؟…])+[\"'»”)\]]*|\n")


def is_word_char(char: str) -> bool:
    """Whether ``char`` is a letter, digit or combining mark (a character a word may hold)."""
    return bool(_WORD_CHAR.match(char))


def word_spans(text: str) -> list[Span]:
    """Character spans of the words of ``text`` (no punctuation).

    >>> text = "قُتل ٣ جنود، وأصيب آخرون."
    >>> [text[s:e] for s, e in word_spans(text)]
    ['قُتل', '٣', 'جنود', 'وأصيب', 'آخرون']
    """
    return [m.span() for m in _WORD.finditer(text)]


def token_spans(text: str) -> list[Span]:
    """Character spans of words and of single punctuation marks, in order (CoNLL tokens).

    >>> text = "قال «الجيش»: انسحبنا."
    >>> [text[s:e] for s, e in token_spans(text)]
    ['قال', '«', 'الجيش', '»', ':', 'انسحبنا', '.']
    """
    return [m.span() for m in _TOKEN.finditer(text)]


def sentence_spans(text: str) -> list[Span]:
    """Character spans of the sentences of ``text``, without surrounding white space.

    >>> text = "قصفت الطائرات حلب. وقتل 3.5 ألف؟ نعم\\nسطر جديد"
    >>> [text[s:e] for s, e in sentence_spans(text)]
    ['قصفت الطائرات حلب.', 'وقتل 3.5 ألف؟', 'نعم', 'سطر جديد']
    """
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        _add_trimmed(text, start, m.end(), spans)
        start = m.end()
    _add_trimmed(text, start, len(text), spans)
    return spans


def _add_trimmed(text: str, start: int, end: int, spans: list[Span]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def sentence_index(sentences: list[Span], offset: int) -> int:
    """The index of the sentence holding character ``offset`` (-1 when it falls between them)."""
    for i, (s, e) in enumerate(sentences):
        if s <= offset < e:
            return i
    return -1
