"""Batch inference over files: streamed, ordered, with bad records reported and skipped.

Inputs are JSONL files (the text in a configurable field), plain ``.txt`` files (one document
each) or folders of them. Memory stays flat however many documents there are: records are read
lazily, annotated in bounded chunks and written as soon as they are done.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm.auto import tqdm

from .documents import Document, Record, iter_records
from .errors import FormatError, MarsadError
from .inference import Predictor

log = logging.getLogger(__name__)

OUTPUT_FORMATS = ("jsonl", "conll", "brat")


@dataclass
class Summary:
    processed: int = 0
    skipped: list[FormatError] = field(default_factory=list)


def iter_inputs(paths: Sequence[str | Path], text_field: str = "text") -> Iterator[Record]:
    """Every input record, in order; folders are read in sorted file order."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".jsonl", ".txt"))
            if not files:
                raise MarsadError(f"{path}: folder holds no .jsonl or .txt files")
            yield from iter_inputs(files, text_field)
        elif path.suffix == ".jsonl":
            yield from (_require_text(r, text_field) for r in iter_records(path, text_field, keep_extra=True))
        elif path.is_file():
            yield _text_file(path)
        else:
            raise MarsadError(f"{path}: no such file or folder")


def _require_text(record: Record, text_field: str) -> Record:
    if record.error and record.error.field == "text" and text_field != "text":
        record.error = FormatError("missing (set the text field with --text-field)", path=record.path,
                                   line=record.line, field=text_field)
    elif record.document is not None and not record.document.text.strip():
        record.error, record.document = FormatError("empty text", path=record.path, line=record.line,
                                                    field=text_field), None
    return record


def _text_file(path: Path) -> Record:
    try:
        with open(path, encoding="utf-8", newline="") as f:   # newline="" keeps \r\n, so offsets match the file
            text = f.read()
    except UnicodeDecodeError as e:
        return Record(str(path), 1, error=FormatError(f"not UTF-8 text ({e.reason})", path=str(path)))
    if not text.strip():
        return Record(str(path), 1, error=FormatError("empty text", path=str(path)))
    return Record(str(path), 1, document=Document(text, path.stem))


def run_batch(predictor: Predictor, inputs: Sequence[str | Path], output: str | Path,
              output_format: str = "jsonl", text_field: str = "text", progress: bool = True) -> Summary:
    """Annotate every readable record of ``inputs`` into ``output``; bad records are skipped and logged."""
    if output_format not in OUTPUT_FORMATS:
        raise MarsadError(f"unknown output format {output_format!r}; choose from {', '.join(OUTPUT_FORMATS)}")
    summary = Summary()

    def readable() -> Iterator[Document]:
        for record in iter_inputs(inputs, text_field):
            if record.error:
                log.warning("skipped %s", record.error)
                summary.skipped.append(record.error)
            else:
                yield record.document

    bar = tqdm(predictor.stream(readable()), desc="predict", unit="doc", disable=not progress)
    with _writer(output, output_format) as write:
        for doc in bar:
            summary.processed += 1
            write(doc, summary.processed)
    return summary


@contextmanager
def _writer(output: str | Path, fmt: str) -> Iterator[Callable[[Document, int], object]]:
    """A function writing the n-th annotated document to ``output`` in format ``fmt``."""
    output = Path(output)
    if fmt == "brat":
        from .formats.brat import write_brat

        # brat names files by document id; records without one are numbered in input order
        yield lambda doc, n: write_brat([doc if doc.id else replace(doc, id=f"doc-{n:06d}")], output)
        return
    from .formats.conll import format_conll

    def encode(doc: Document) -> str:
        return json.dumps(doc.to_dict(), ensure_ascii=False) + "\n" if fmt == "jsonl" else format_conll([doc])

    with open(output, "w", encoding="utf-8") as f:
        yield lambda doc, n: f.write(encode(doc))
