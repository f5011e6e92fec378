"""Documents to tensors: label maps from the schema, gold labels, candidate pairs, batches.

Entities here are word ranges ``(first_word, last_word_inclusive, type_id)``; characters are
mapped to words only through :class:`marsad.alignment.Encoding`.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from .alignment import Encoding, Window, encode_document
from .bio import bio_labels, entities_to_tags
from .documents import Document
from .errors import FormatError
from .schema import Schema
from .text import sentence_spans

WordEntity = tuple[int, int, int]  # first word, last word (inclusive), entity type id


class LabelSpace:
    """The tag set, relation list and allowed argument types of a schema, as ids and masks."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.entity_types = list(schema.entity_types)
        self.tags = bio_labels(self.entity_types)
        self.relations = list(schema.relation_names)
        n, r = len(self.entity_types), len(self.relations)
        self.allowed = torch.zeros(n, n, r, dtype=torch.bool)
        for k, rel in enumerate(schema.relation_types):
            for h, head in enumerate(self.entity_types):
                for t, tail in enumerate(self.entity_types):
                    self.allowed[h, t, k] = rel.allows(head, tail)
        self.symmetric = torch.tensor([rel.symmetric for rel in schema.relation_types], dtype=torch.bool)


@dataclass
class DocumentFeatures:
    """One document ready for the network; gold labels are empty for unannotated text."""

    encoding: Encoding
    word_sentence: list[int]
    tag_ids: list[int] = field(default_factory=list)
    entities: list[WordEntity] = field(default_factory=list)
    relations: dict[tuple[int, int], set[int]] = field(default_factory=dict)


def featurize(doc: Document, labels: LabelSpace, tokenizer, max_length: int, stride: int,
              preprocess=None, with_gold: bool = True) -> DocumentFeatures:
    encoding = encode_document(doc.text, tokenizer, max_length, stride, preprocess)
    starts = [s for s, _ in sentence_spans(doc.text)]
    word_sentence = [bisect.bisect_right(starts, s) - 1 for s, _ in encoding.words]
    feats = DocumentFeatures(encoding, word_sentence)
    if not with_gold:
        return feats
    where = f"document {doc.id!r}"
    try:
        feats.tag_ids = [labels.tags.index(t) for t in entities_to_tags(encoding.words, doc.entities)]
    except (FormatError, ValueError) as e:
        raise FormatError(f"{where}: {e}") from None
    index = {}
    for ent in doc.entities:
        first, last = encoding.word_index(ent.start, ent.end)
        index[ent.id] = len(feats.entities)
        feats.entities.append((first, last - 1, labels.entity_types.index(ent.type)))
    for rel in doc.relations:
        h, t = index[rel.head], index[rel.tail]
        k = labels.relations.index(rel.type)
        if labels.symmetric[k] and feats.entities[t][0] < feats.entities[h][0]:
            h, t = t, h
        feats.relations.setdefault((h, t), set()).add(k)
    return feats


def candidate_pairs(entities: Sequence[WordEntity], word_sentence: Sequence[int],
                    labels: LabelSpace) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ordered entity pairs in one sentence whose types the schema lets some relation link.

    Returns head indices, tail indices (both ``[pairs]``, in row-major order) and the
    relations each pair may carry (``[pairs, relations]``).
    """
    ents = torch.tensor(entities, dtype=torch.long).reshape(-1, 3)
    first, etype = ents[:, 0], ents[:, 2]
    sentence = torch.tensor(word_sentence, dtype=torch.long)[first]
    mask = labels.allowed[etype[:, None], etype[None, :]]                          # [n, n, relations]
    # a symmetric relation is scored once, for the pair in text order
    mask = mask & ((first[:, None] < first[None, :])[..., None] | ~labels.symmetric)
    same_sentence = (sentence[:, None] == sentence[None, :]).fill_diagonal_(False)
    mask = mask & same_sentence[..., None]
    heads, tails = mask.any(-1).nonzero(as_tuple=True)
    return heads, tails, mask[heads, tails]


@dataclass
class Batch:
    """Tensors for a batch of documents, plus where each document's words and pairs are."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    word_window: torch.Tensor
    word_position: torch.Tensor
    word_offsets: list[int]              # document d's words are [word_offsets[d], word_offsets[d+1])
    tag_ids: torch.Tensor | None = None


def collate_words(features: Sequence[DocumentFeatures], pad_id: int) -> Batch:
    """Stack every window of every document, padded to the longest, and index each word."""
    windows = [w for f in features for w in f.encoding.windows]
    tag_ids = [t for f in features for t in f.tag_ids]
    return Batch(*collate_windows(windows, pad_id), word_offsets(features),
                 torch.tensor(tag_ids, dtype=torch.long) if tag_ids else None)


def word_offsets(features: Sequence[DocumentFeatures]) -> list[int]:
    """Where each document's words start when all documents' words are laid end to end (plus the total)."""
    offsets = [0]
    for f in features:
        offsets.append(offsets[-1] + len(f.encoding.words))
    return offsets


def collate_windows(windows: Sequence[Window], pad_id: int) -> tuple[torch.Tensor, ...]:
    """Input ids and attention mask of windows padded to the longest, and where each owned word is.

    Words come out window by window, each window's owned words in order; since windows own
    consecutive ranges of words, that is document order.
    """
    width = max(len(w.input_ids) for w in windows)
    input_ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(windows), width), dtype=torch.long)
    word_window, word_position = [], []
    for k, w in enumerate(windows):
        input_ids[k, :len(w.input_ids)] = torch.tensor(w.input_ids)
        attention_mask[k, :len(w.input_ids)] = 1
        word_window += [k] * len(w.positions)
        word_position += w.positions
    return (input_ids, attention_mask, torch.tensor(word_window, dtype=torch.long),
            torch.tensor(word_position, dtype=torch.long))


@dataclass
class PairBatch:
    """Entities (as batch-wide word indices) and candidate pairs of a batch of documents."""

    entity_first: torch.Tensor
    entity_last: torch.Tensor
    entity_type: torch.Tensor
    pair_head: torch.Tensor
    pair_tail: torch.Tensor
    pair_mask: torch.Tensor              # [pairs, relations]: which relations each pair may carry
    pair_labels: torch.Tensor            # [pairs, relations]: gold (zeros when unknown)
    pair_index: list[list[tuple[int, int]]]  # per document, its pairs as (head, tail) entity indices


def collate_pairs(features: Sequence[DocumentFeatures], entities: Sequence[Sequence[WordEntity]],
                  word_offsets: Sequence[int], labels: LabelSpace) -> PairBatch:
    firsts, lasts, types, heads, tails, masks, gold, index = [], [], [], [], [], [], [], []
    base = 0
    for d, (f, ents) in enumerate(zip(features, entities)):
        for first, last, etype in ents:
            firsts.append(word_offsets[d] + first)
            lasts.append(word_offsets[d] + last)
            types.append(etype)
        head, tail, mask = candidate_pairs(ents, f.word_sentence, labels)
        pairs = list(zip(head.tolist(), tail.tolist()))
        target = torch.zeros(mask.shape)
        row = {pair: k for k, pair in enumerate(pairs)}
        for pair, rels in f.relations.items():
            if pair in row:
                target[row[pair], list(rels)] = 1.0
        heads.append(head + base)
        tails.append(tail + base)
        masks.append(mask)
        gold.append(target)
        index.append(pairs)
        base += len(ents)
    long = lambda xs: torch.tensor(xs, dtype=torch.long)  # noqa: E731
    return PairBatch(long(firsts), long(lasts), long(types), torch.cat(heads), torch.cat(tails),
                     torch.cat(masks), torch.cat(gold), index)
