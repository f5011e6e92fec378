"""Running a trained model on documents: batching, decoding, character offsets.

:class:`Predictor` holds a loaded model and is what batch jobs use; :func:`predict` is the
one-call API on top of it, with the model loaded once per process and reused.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import overload

import torch

from .config import PRECISIONS
from .decoding import TagDecoder
from .documents import Document, Entity, Relation
from .errors import MarsadError
from .features import DocumentFeatures, collate_pairs, collate_windows, word_offsets
from .model import MarsadModel
from .quantization import quantize_int8

log = logging.getLogger(__name__)

# On the CPU an encoder batch holds at most this many positions, whatever ``batch_size`` says:
# larger ones ran slower on 2 cores, e.g. BERT-base on 512-sub-word windows read 900 sub-words/s
# 4 windows at a time, 850 at 16 and 730 at 32; 128-sub-word windows were fastest 16 at a time.
CPU_BATCH_POSITIONS = 2048


class Predictor:
    """A loaded model ready to annotate documents; safe to share between threads.

    ``batch_size`` is the number of encoder windows (of up to ``max_length`` sub-words) run
    at once; an article of 300 words is one or two windows.

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
            if model.calibration is None:
                log.warning("this model has no int8 calibration: its feed-forward down-projections stay "
                            "float (slower); `marsad calibrate --model DIR INPUT...` adds one")
            self.network = quantize_int8(self.network, model.calibration)
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
        out: list[Document | None] = [None] * len(docs)
        for group in _document_groups(features, self.batch_size):
            for i, doc in zip(group, self._annotate_batch([docs[i] for i in group], [features[i] for i in group])):
                out[i] = doc
        return out  # type: ignore[return-value]

    @torch.no_grad()
    def _annotate_batch(self, docs: list[Document], features: list[DocumentFeatures]) -> list[Document]:
        net, dev = self.network, self.device
        vectors, word_offsets = self._word_vectors(features)
        with self._autocast():
            tag_logits = net.tag_logits(vectors).float().cpu()
        entities, scores = [], []
        for ents, sc in self.decoder.decode([tag_logits[word_offsets[d]:word_offsets[d + 1]] for d in range(len(docs))]):
            keep = [k for k, s in enumerate(sc) if s >= self.entity_threshold]
            entities.append([ents[k] for k in keep])
            scores.append([sc[k] for k in keep])
        pairs = collate_pairs(features, entities, word_offsets, self.model.labels)
        with self._autocast():
            logits = net.relation_logits(vectors, pairs.entity_first.to(dev), pairs.entity_last.to(dev),
                                         pairs.entity_type.to(dev), pairs.pair_head.to(dev), pairs.pair_tail.to(dev))
        probs = (logits.float().sigmoid().cpu() * pairs.pair_mask).tolist()
        results, p = [], 0
        for doc, feat, ents, sc, doc_pairs in zip(docs, features, entities, scores, pairs.pair_index):
            results.append(self._document(doc, feat, ents, sc, doc_pairs, probs[p:p + len(doc_pairs)]))
            p += len(doc_pairs)
        return results

    def _word_vectors(self, features: list[DocumentFeatures]) -> tuple[torch.Tensor, list[int]]:
        """Every word's vector, all documents' words one after another, and where each document starts.

        Windows are encoded longest first in groups of similar length, so that the short last
        window of a long article is not padded to the length of a full one.
        """
        offsets = word_offsets(features)
        windows = [w for f in features for w in f.encoding.windows]
        first_row = [offsets[d] + w.owned_words.start for d, f in enumerate(features) for w in f.encoding.windows]
        vectors = None
        order = sorted(range(len(windows)), key=lambda k: -len(windows[k].input_ids))
        max_positions = CPU_BATCH_POSITIONS if self.device.type == "cpu" else None
        for group in _similar_lengths([len(windows[k].input_ids) for k in order], self.batch_size, max_positions):
            ks = [order[g] for g in group]
            tensors = collate_windows([windows[k] for k in ks], self.model.tokenizer.pad_token_id)
            with self._autocast():
                group_vectors = self.network.word_vectors(*(t.to(self.device) for t in tensors))
            if vectors is None:
                vectors = group_vectors.new_empty((offsets[-1], group_vectors.shape[-1]))
            rows = torch.cat([torch.arange(len(windows[k].positions)) + first_row[k] for k in ks])
            vectors[rows.to(self.device)] = group_vectors
        return vectors, offsets

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


def _document_groups(features: Sequence[DocumentFeatures], max_windows: int) -> Iterator[list[int]]:
    """Indices of documents, shortest first, in groups of at most ``max_windows`` windows (or one document).

    Bounding windows rather than documents keeps memory flat when some articles are very long.
    """
    size = [sum(len(w.input_ids) for w in f.encoding.windows) for f in features]
    group: list[int] = []
    windows = 0
    for i in sorted(range(len(features)), key=size.__getitem__):
        n = len(features[i].encoding.windows)
        if group and windows + n > max_windows:
            yield group
            group, windows = [], 0
        group.append(i)
        windows += n
    if group:
        yield group


def _similar_lengths(lengths: Sequence[int], max_size: int, max_positions: int | None = None) -> Iterator[range]:
    """Split lengths sorted longest first into runs of at most ``max_size`` items (and at most
    ``max_positions`` once padded) where padding to the first (longest) wastes under an eighth of each item.

    On ANT news a quarter left 7% of encoder positions padding and ran 10% slower on the CPU; a
    sixteenth gained nothing more and only made more (smaller) encoder calls.
    """
    start = 0
    for k in range(1, len(lengths) + 1):
        if (k == len(lengths) or k - start == max_size or 8 * lengths[k] < 7 * lengths[start]
                or (max_positions and (k - start + 1) * lengths[start] > max_positions)):
            yield range(start, k)
            start = k


def _resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` is bf16 (or fp16 where bf16 is missing) on a GPU and fp32 on the CPU.

    On the CPU auto stays fp32 even where bf16 is fast, so that the same input gives the same
    output on every machine; bf16 is there to ask for.
    """
    if precision not in PRECISIONS:
        raise MarsadError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "int8" and device.type != "cpu":
        raise MarsadError("precision int8 (dynamic quantisation) runs on the CPU only")
    if precision == "bf16" and device.type == "cpu" and not native_bf16_cpu():
        log.warning("this CPU has no native bf16 arithmetic (AVX512-BF16 or AMX): bf16 will be slower than fp32")
    if precision == "auto":
        if device.type != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return precision


def native_bf16_cpu() -> bool:
    """Whether this CPU computes bf16 natively (torch has only these private checks for it)."""
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def cpu_precisions() -> tuple[str, ...]:
    """The precisions that run fast on this CPU: fp32, bf16 where it is native, and int8."""
    return ("fp32", "bf16", "int8") if native_bf16_cpu() else ("fp32", "int8")


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
