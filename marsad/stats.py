"""Corpus statistics: documents, words, entities and relations per split and type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .documents import Document
from .text import word_spans


@dataclass
class CorpusStats:
    documents: Counter = field(default_factory=Counter)        # split -> documents
    words: Counter = field(default_factory=Counter)            # split -> words
    entities: Counter = field(default_factory=Counter)         # (split, type) -> mentions
    relations: Counter = field(default_factory=Counter)        # (split, type) -> relations
    argument_types: Counter = field(default_factory=Counter)   # (relation, head type, tail type) -> count

    def add(self, doc: Document, split: str) -> None:
        self.documents[split] += 1
        self.words[split] += len(word_spans(doc.text))
        types = {e.id: e.type for e in doc.entities}
        self.entities.update((split, e.type) for e in doc.entities)
        for r in doc.relations:
            self.relations[(split, r.type)] += 1
            self.argument_types[(r.type, types.get(r.head, "?"), types.get(r.tail, "?"))] += 1

    @property
    def splits(self) -> list[str]:
        return sorted(self.documents)

    def to_markdown(self) -> str:
        splits = self.splits
        head = "| | " + " | ".join(splits) + " | total |\n|---|" + "---:|" * (len(splits) + 1) + "\n"

        def row(label: str, counts: Counter, key=lambda s: s) -> str:
            values = [counts[key(s)] for s in splits]
            return f"| {label} | " + " | ".join(map(str, values)) + f" | {sum(values)} |\n"

        out = "## Documents\n\n" + head + row("documents", self.documents) + row("words", self.words)
        out += "\n## Entities\n\n" + head
        for etype in sorted({t for _, t in self.entities}):
            out += row(etype, self.entities, lambda s, t=etype: (s, t))
        out += "\n## Relations\n\n" + head
        for rtype in sorted({t for _, t in self.relations}):
            out += row(rtype, self.relations, lambda s, t=rtype: (s, t))
        out += "\n## Relation argument types\n\n| relation | head | tail | count |\n|---|---|---|---:|\n"
        for (rtype, h, t), n in sorted(self.argument_types.items()):
            out += f"| {rtype} | {h} | {t} | {n} |\n"
        return out


def corpus_stats(documents: Iterable[tuple[Document, str]]) -> CorpusStats:
    """Statistics over ``(document, split)`` pairs."""
    stats = CorpusStats()
    for doc, split in documents:
        stats.add(doc, split)
    return stats
