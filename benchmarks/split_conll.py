"""Carve a dev part from a CoNLL file: the last N% of its sentences (ANERcorp has no dev split).

    python benchmarks/split_conll.py ../shared/data/anercorp/train.conll runs/anercorp --dev-share 0.1

writes runs/anercorp/train.conll and runs/anercorp/dev.conll; the source file is only read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def split_sentences(text: str) -> list[str]:
    """Sentence blocks of a CoNLL file (blank-line separated), without the blank lines."""
    return [block.strip("\n") for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conll", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--dev-share", type=float, default=0.1)
    args = parser.parse_args()
    if not args.conll.is_file():
        print(f"{args.conll}: not found (ANERcorp lives in ../shared/data/anercorp/)", file=sys.stderr)
        return 2
    sentences = split_sentences(args.conll.read_text(encoding="utf-8"))
    cut = len(sentences) - round(args.dev_share * len(sentences))
    args.output.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", sentences[:cut]), ("dev", sentences[cut:])):
        (args.output / f"{name}.conll").write_text("\n\n".join(part) + "\n\n", encoding="utf-8")
        print(f"{args.output / name}.conll: {len(part)} sentences")
    return 0


if __name__ == "__main__":
    sys.exit(main())
