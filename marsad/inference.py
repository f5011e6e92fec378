"""Running a trained model on documents: batching, decoding, character offsets.

:class:`Predictor` holds a loaded model and is what batch jobs use; :func:`predict` is the
one-call API on top of it, with the model loaded once per process and reused.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import overload

import torch

from .decoding import TagDecoder
from .documents import Document, Entity, Relation
from .errors import MarsadError
from .features import DocumentFeatures, collate_pairs, collate_words
from .model import MarsadModel


class Predictor:
    """A loaded model ready to annotate documents; safe to share between threads.

    >>> predictor = Predictor.from_pretrained("path/to/model")        # doctest: +SKIP
    >>> [doc] = predictor.predict(["قتل 3 جنود في غارة على حلب"])       # doctest: +SKIP
    """

    def __init__(self, model: MarsadModel, device: str | torch.device | None = None, batch_size: int = 16,
                 relation_threshold: float | None = None, entity_threshold: float = 0.0, precision: str = "auto"):
        self.model = model
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.precision = _resolve_precision(precision, self.device)
        self.network = model.network.to(self.device).eval()
        if self.precision == "int8":
            # dynamic quantisation: int8 weights for every Linear layer, activations quantised on
            # the fly; a copy, so the model stays usable in full precision elsewhere
            from torch.ao.quantization import quantize_dynamic
            self.network = quantize_dynamic(self.network, {torch.nn.Linear}, dtype=torch.qint8, inplace=False)
        self.batch_size = batch_size
        # the model's own threshold (tuned on dev data when it was trained) unless one is given
        self.relation_threshold = model.settings.relation_threshold if relation_threshold is None else relation_threshold
        self.entity_threshold = entity_threshold
        self.decoder = TagDecoder(model.labels.tags, model.labels.entity_types)
        # fast tokenizers may not be entered from two threads at once
        self._tokenizer_lock = threading.Lock()

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, **options) -> "Predictor":
        return cls(MarsadModel.from_pretrained(name_or_path), **options)

    def predict(self, inputs: Sequence[str | Document]) -> list[Document]:
        """Annotate texts or Documents; returns new Documents in input order.

        Every entity satisfies ``doc.text[e.start:e.end] == e.text`` on the text as given.
        """
        docs = [_as_document(x, i) for i, x in enumerate(inputs)]
        return list(self.stream(docs))

    def stream(self, docs: Iterable[Document], chunk: int = 1024) -> Iterator[Document]:
        """Annotate a stream of documents lazily, in input order, with memory bounded by ``chunk``.

        Within each chunk documents are batched by length, so batches carry little padding.
        """
        pending: list[Document] = []
        for doc in docs:
            pending.append(doc)
            if len(pending) == chunk:
                yield from self._annotate_chunk(pending)
                pending = []
        if pending:
            yield from self._annotate_chunk(pending)

    def _annotate_chunk(self, docs: list[Document]) -> list[Document]:
        with self._tokenizer_lock:
            features = [self.model.featurize(d) for d in docs]
        order = sorted(range(len(docs)), key=lambda i: sum(len(w.input_ids) for w in features[i].encoding.windows))
        out: list[Document | None] = [None] * len(docs)
        for b in range(0, len(order), self.batch_size):
            idx = order[b:b + self.batch_size]
            for i, doc in zip(idx, self._annotate_batch([docs[i] for i in idx], [features[i] for i in idx])):
                out[i] = doc
        return out  # type: ignore[return-value]

    @torch.no_grad()
    def _annotate_batch(self, docs: list[Document], features: list[DocumentFeatures]) -> list[Document]:
        net, dev = self.network, self.device
        words = collate_words(features, self.model.tokenizer.pad_token_id)
        with self._autocast():
            vectors = net.word_vectors(words.input_ids.to(dev), words.attention_mask.to(dev),
                                       words.word_window.to(dev), words.word_position.to(dev))
            tag_logits = net.tag_logits(vectors).float().cpu()
        entities, scores = [], []
        for d in range(len(docs)):
            ents, sc = self.decoder(tag_logits[words.word_offsets[d]:words.word_offsets[d + 1]])
            keep = [k for k, s in enumerate(sc) if s >= self.entity_threshold]
            entities.append([ents[k] for k in keep])
            scores.append([sc[k] for k in keep])
        pairs = collate_pairs(features, entities, words.word_offsets, self.model.labels)
        with self._autocast():
            logits = net.relation_logits(vectors, pairs.entity_first.to(dev), pairs.entity_last.to(dev),
                                         pairs.entity_type.to(dev), pairs.pair_head.to(dev), pairs.pair_tail.to(dev))
        probs = (logits.float().sigmoid().cpu() * pairs.pair_mask).tolist()
        results, p = [], 0
        for doc, feat, ents, sc, doc_pairs in zip(docs, features, entities, scores, pairs.pair_index):
            results.append(self._document(doc, feat, ents, sc, doc_pairs, probs[p:p + len(doc_pairs)]))
            p += len(doc_pairs)
        return results

    def _document(self, doc: Document, feat: DocumentFeatures, ents, scores, pairs, probs) -> Document:
        labels, spans = self.model.labels, feat.encoding.words
        entities = []
        for k, ((first, last, etype), score) in enumerate(zip(ents, scores)):
            start, end = spans[first][0], spans[last][1]
            entities.append(Entity(labels.entity_types[etype], start, end, doc.text[start:end], f"T{k + 1}", score))
        relations = [Relation(labels.relations[r], f"T{i + 1}", f"T{j + 1}", prob)
                     for (i, j), row in zip(pairs, probs)
                     for r, prob in enumerate(row) if prob >= self.relation_threshold]
        return Document(doc.text, doc.id, entities, relations, dict(doc.meta))

    def _autocast(self):
        if self.precision in ("bf16", "fp16"):
            return torch.autocast(self.device.type, dtype=torch.bfloat16 if self.precision == "bf16" else torch.float16)
        return contextlib.nullcontext()


PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")


def _resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` is bf16 (or fp16 where bf16 is missing) on a GPU and fp32 on the CPU."""
    if precision not in PRECISIONS:
        raise MarsadError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "int8" and device.type != "cpu":
        raise MarsadError("precision int8 (dynamic quantisation) runs on the CPU only")
    if precision == "auto":
        if device.type != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return precision


def _as_document(item: str | Document, index: int) -> Document:
    if isinstance(item, Document):
        doc = item
    elif isinstance(item, str):
        doc = Document(item)
    else:
        raise MarsadError(f"inputs[{index}]: expected a str or Document, got {type(item).__name__}")
    if not doc.text.strip():
        raise MarsadError(f"inputs[{index}]: empty text")
    return doc


_loaded: dict[tuple, Predictor] = {}
_loaded_lock = threading.Lock()


def _predictor(model: str | Path | None, **options) -> Predictor:
    if model is None:
        from .embedded import embedded_model_path
        model = embedded_model_path()
    key = (str(model), tuple(sorted(options.items())))
    with _loaded_lock:
        if key not in _loaded:
            _loaded[key] = Predictor.from_pretrained(model, **options)
        return _loaded[key]


@overload
def predict(inputs: str | Document, *, model: str | Path | None = ..., **options) -> Document: ...
@overload
def predict(inputs: Sequence[str | Document], *, model: str | Path | None = ..., **options) -> list[Document]: ...


def predict(inputs, *, model=None, **options):
    """Extract entities and relations; one text gives a Document, a list gives a list.

    ``model`` is a model folder or hub name (default: the model shipped with the package);
    ``options`` go to :class:`Predictor` (``batch_size``, ``device``, ``relation_threshold``,
    ``entity_threshold``, ``precision``: auto, fp32, bf16, fp16 or int8). The model is loaded once and reused by later calls.

    >>> doc = predict("قتل 3 جنود في غارة جوية على حلب")             # doctest: +SKIP
    >>> [(e.type, e.text) for e in doc.entities]                      # doctest: +SKIP
    [('NUMBER', '3'), ('ACTOR', 'جنود'), ('WEAPON', 'غارة جوية'), ('LOCATION', 'حلب')]
    """
    predictor = _predictor(model, **options)
    if isinstance(inputs, (str, Document)):
        return predictor.predict([inputs])[0]
    return predictor.predict(list(inputs))
