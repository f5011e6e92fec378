"""Scoring predicted documents against gold ones.

Entities are scored two ways: by seqeval in strict IOB2 mode on word-level tags (the usual NER
figure) and by exact character spans. Relations are scored strict (relation type, and both
arguments' spans and types, right) and boundaries-only (argument types ignored). Symmetric
relations count once whichever way round they are written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from .bio import entities_to_tags
from .documents import Document
from .errors import FormatError
from .schema import Schema
from .text import token_spans

NONE = "(none)"


@dataclass
class PRF:
    """Counts of true positives, predictions and gold items, and the scores derived from them."""

    tp: int = 0
    predicted: int = 0
    gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, gold: set, predicted: set) -> None:
        self.tp += len(gold & predicted)
        self.gold += len(gold)
        self.predicted += len(predicted)

    def to_dict(self) -> dict[str, float | int]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "support": self.gold, "predicted": self.predicted, "correct": self.tp}


@dataclass
class Scores:
    """Micro-averaged scores and scores per type."""

    micro: PRF = field(default_factory=PRF)
    per_type: dict[str, PRF] = field(default_factory=dict)

    def add(self, gold: set[tuple], predicted: set[tuple]) -> None:
        """Items are tuples whose first element is their type."""
        self.micro.add(gold, predicted)
        for t in {x[0] for x in gold | predicted}:
            self.per_type.setdefault(t, PRF()).add({x for x in gold if x[0] == t}, {x for x in predicted if x[0] == t})

    def to_dict(self) -> dict[str, Any]:
        return {"micro": self.micro.to_dict(), "per_type": {t: s.to_dict() for t, s in sorted(self.per_type.items())}}


@dataclass
class Report:
    entities_seqeval: dict[str, Any]
    entities_span: Scores
    relations_strict: Scores
    relations_boundaries: Scores
    confusion: dict[str, dict[str, int]]
    documents: int

    def to_dict(self) -> dict[str, Any]:
        return {"documents": self.documents, "entities_seqeval": self.entities_seqeval,
                "entities_span": self.entities_span.to_dict(), "relations_strict": self.relations_strict.to_dict(),
                "relations_boundaries": self.relations_boundaries.to_dict(), "entity_type_confusion": self.confusion}

    @property
    def entity_f1(self) -> float:
        return self.entities_span.micro.f1

    @property
    def relation_f1(self) -> float:
        return self.relations_strict.micro.f1

    def to_markdown(self) -> str:
        out = [f"# Evaluation ({self.documents} documents)", "",
               "## Entities", "", "| type | seqeval P | R | F1 | span P | R | F1 | support |",
               "|---|---:|---:|---:|---:|---:|---:|---:|"]
        seq = self.entities_seqeval
        for t in sorted(self.entities_span.per_type) + ["micro"]:
            span = self.entities_span.micro if t == "micro" else self.entities_span.per_type[t]
            s = seq.get(t, {})
            out.append(f"| {t} | {s.get('precision', 0):.3f} | {s.get('recall', 0):.3f} | {s.get('f1', 0):.3f} | "
                       f"{span.precision:.3f} | {span.recall:.3f} | {span.f1:.3f} | {span.gold} |")
        out += ["", "## Relations", "", "| type | strict P | R | F1 | boundaries P | R | F1 | support |",
                "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for t in sorted(self.relations_strict.per_type | self.relations_boundaries.per_type) + ["micro"]:
            st = self.relations_strict.micro if t == "micro" else self.relations_strict.per_type.get(t, PRF())
            bd = self.relations_boundaries.micro if t == "micro" else self.relations_boundaries.per_type.get(t, PRF())
            out.append(f"| {t} | {st.precision:.3f} | {st.recall:.3f} | {st.f1:.3f} | "
                       f"{bd.precision:.3f} | {bd.recall:.3f} | {bd.f1:.3f} | {st.gold} |")
        cols = sorted({c for row in self.confusion.values() for c in row})
        out += ["", "## Entity type confusion (rows gold, columns predicted)", "",
                "| gold \\ predicted | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
        for g in sorted(self.confusion):
            out.append(f"| {g} | " + " | ".join(str(self.confusion[g].get(c, 0)) for c in cols) + " |")
        return "\n".join(out) + "\n"


def evaluate_documents(gold: Sequence[Document], predicted: Sequence[Document], schema: Schema) -> Report:
    """Score ``predicted`` against ``gold``, paired by document id (or by position without ids)."""
    pairs = _pair_documents(gold, predicted)
    symmetric = {r.name for r in schema.relation_types if r.symmetric}
    y_true, y_pred = [], []
    spans, strict, loose = Scores(), Scores(), Scores()
    confusion: dict[str, Counter] = {}
    for g, p in pairs:
        tokens = token_spans(g.text)
        y_true.append(_tags(tokens, g, "gold"))
        y_pred.append(_tags(tokens, p, "predicted"))
        gold_ents = {(e.type, e.start, e.end) for e in g.entities}
        pred_ents = {(e.type, e.start, e.end) for e in p.entities}
        spans.add(gold_ents, pred_ents)
        strict.add(_relations(g, symmetric, True), _relations(p, symmetric, True))
        loose.add(_relations(g, symmetric, False), _relations(p, symmetric, False))
        _confuse(g, p, confusion)
    report = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    seqeval = {("micro" if k == "micro avg" else k): {"precision": round(float(v["precision"]), 4),
                                                       "recall": round(float(v["recall"]), 4),
                                                       "f1": round(float(v["f1-score"]), 4),
                                                       "support": int(v["support"])}
               for k, v in report.items() if k not in ("macro avg", "weighted avg")}
    return Report(seqeval, spans, strict, loose, {g: dict(c) for g, c in confusion.items()}, len(pairs))


def _pair_documents(gold: Sequence[Document], predicted: Sequence[Document]) -> list[tuple[Document, Document]]:
    if all(d.id for d in gold):
        by_id = {d.id: d for d in predicted}
        missing = [d.id for d in gold if d.id not in by_id]
        if missing:
            raise FormatError(f"{len(missing)} gold document(s) have no prediction, e.g. {missing[:3]}")
        pairs = [(d, by_id[d.id]) for d in gold]
    elif len(gold) != len(predicted):
        raise FormatError(f"{len(gold)} gold but {len(predicted)} predicted documents, and no ids to pair them by")
    else:
        pairs = list(zip(gold, predicted))
    for g, p in pairs:
        if g.text != p.text:
            raise FormatError(f"document {g.id!r}: predicted text differs from the gold text")
    return pairs


def _tags(tokens, doc: Document, side: str) -> list[str]:
    try:
        return entities_to_tags(tokens, doc.entities)
    except FormatError as e:
        raise FormatError(f"{side} document {doc.id!r}: {e.message}") from None


def _relations(doc: Document, symmetric: set[str], typed: bool) -> set[tuple]:
    ents = {e.id: e for e in doc.entities}
    out = set()
    for r in doc.relations:
        h, t = ents[r.head], ents[r.tail]
        args = [(h.start, h.end) + ((h.type,) if typed else ()), (t.start, t.end) + ((t.type,) if typed else ())]
        if r.type in symmetric:
            args.sort()
        out.add((r.type, *args))
    return out


def _confuse(gold: Document, predicted: Document, confusion: dict[str, Counter]) -> None:
    pred_by_span = {(e.start, e.end): e.type for e in predicted.entities}
    gold_spans = set()
    for e in gold.entities:
        gold_spans.add((e.start, e.end))
        confusion.setdefault(e.type, Counter())[pred_by_span.get((e.start, e.end), NONE)] += 1
    for e in predicted.entities:
        if (e.start, e.end) not in gold_spans:
            confusion.setdefault(NONE, Counter())[e.type] += 1
