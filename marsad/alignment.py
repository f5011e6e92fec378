"""The one map between characters, words and sub-words, and the windows the encoder reads.

A document's text becomes word spans (:func:`marsad.text.token_spans`), each word becomes
sub-word ids, and the ids are cut into windows that fit the encoder. Long documents get
overlapping windows; every word is *owned* by exactly one window (the one where it sits
furthest from an edge), and its vector comes from there, so nothing is lost or counted twice at
the seams. Entities and tags are always expressed in words; only this module sees sub-words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .text import Span, token_spans

# A single word (a URL, a run of emoji) may not take more than this share of a window's
# sub-words; only its first sub-word carries its label, so the tail is dropped.
MAX_PIECES_PER_WORD = 16


@dataclass
class Window:
    """One encoder input: sub-word ids with special tokens, and where each owned word starts."""

    input_ids: list[int]
    owned_words: range                 # words whose vectors come from this window
    positions: list[int]               # position of each owned word's first sub-word


@dataclass
class Encoding:
    """A document as words and encoder windows."""

    words: list[Span]
    windows: list[Window]

    def word_index(self, start: int, end: int) -> tuple[int, int] | None:
        """``(first_word, last_word_exclusive)`` covering characters ``start..end``, if aligned."""
        first = next((i for i, (s, _) in enumerate(self.words) if s == start), None)
        last = next((i for i, (_, e) in enumerate(self.words) if e == end), None)
        if first is None or last is None or last < first:
            return None
        return first, last + 1


def encode_document(text: str, tokenizer, max_length: int, stride: int,
                    preprocess: Callable[[str], str] | None = None) -> Encoding:
    """Split ``text`` into words and windows of at most ``max_length`` sub-words.

    ``preprocess`` (AraBERT's normaliser, say) is applied word by word, so whatever it strips or
    rewrites, each word keeps its character span in the caller's original text.
    """
    words = token_spans(text)
    strings = [text[s:e] for s, e in words]
    if preprocess is not None:
        strings = [preprocess(w) for w in strings]
    pieces = word_pieces(tokenizer, strings)
    unk = tokenizer.unk_token_id
    pieces = [(p or [unk])[:MAX_PIECES_PER_WORD] for p in pieces]
    return Encoding(words, build_windows(pieces, tokenizer, max_length, stride))


def word_pieces(tokenizer, words: Sequence[str]) -> list[list[int]]:
    """Sub-word ids of each word, without special tokens.

    A fast tokenizer's Rust backend is called directly: the transformers wrapper around it gives
    the same ids but took 45% of the tokenising time on news articles. A backend configured to
    pad (padding would fill every word to the longest) goes through the wrapper, which turns it off.
    """
    if not words:
        return []
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or backend.padding is not None:
        return tokenizer(list(words), add_special_tokens=False)["input_ids"]
    return [e.ids for e in backend.encode_batch(list(words), add_special_tokens=False)]


def build_windows(pieces: Sequence[list[int]], tokenizer, max_length: int, stride: int) -> list[Window]:
    """Cut words' sub-words into windows that overlap by about ``stride`` sub-words."""
    prefix = [tokenizer.cls_token_id] if tokenizer.cls_token_id is not None else []
    suffix = [tokenizer.sep_token_id] if tokenizer.sep_token_id is not None else []
    capacity = max_length - len(prefix) - len(suffix)
    if capacity < MAX_PIECES_PER_WORD:
        raise ValueError(f"max_length {max_length} leaves no room for a word of {MAX_PIECES_PER_WORD} sub-words")
    spans = _window_spans([len(p) for p in pieces], capacity, min(stride, capacity // 2))
    windows = []
    for k, (start, end) in enumerate(spans):
        # a word in the overlap of two windows belongs to the one where it is further from the edge
        own_start = start if k == 0 else (start + spans[k - 1][1]) // 2
        own_end = end if k == len(spans) - 1 else (spans[k + 1][0] + end) // 2
        ids, positions = list(prefix), []
        for w in range(start, end):
            if own_start <= w < own_end:
                positions.append(len(ids))
            ids.extend(pieces[w])
        windows.append(Window(ids + suffix, range(own_start, own_end), positions))
    return windows


def _window_spans(lengths: Sequence[int], capacity: int, stride: int) -> list[tuple[int, int]]:
    """Word ranges ``[start, end)`` of at most ``capacity`` sub-words, each overlapping the last."""
    n, spans, start = len(lengths), [], 0
    while True:
        end, used = start, 0
        while end < n and used + lengths[end] <= capacity:
            used += lengths[end]
            end += 1
        spans.append((start, end))
        if end >= n:
            return spans
        # step back from the end by about `stride` sub-words, but always move forward
        next_start, overlap = end, 0
        while next_start > start + 1 and overlap + lengths[next_start - 1] <= stride:
            next_start -= 1
            overlap += lengths[next_start]
        start = next_start
