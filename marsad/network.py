"""The network: one encoder pass feeding a word-level BIO tagger and a relation scorer.

Only ``nn.Module`` code lives here; turning documents into tensors is
:mod:`marsad.features`, and turning scores back into entities is :mod:`marsad.decoding`.
"""

from __future__ import annotations

import torch
from torch import nn


class JointNetwork(nn.Module):
    """Encoder + entity head (BIO logits per word) + relation head (a score per pair and type).

    An entity is represented by the vectors of its first and last words and an embedding of its
    type; a candidate pair by both entity vectors, their product and an embedding of how many
    words apart they are (in dense news text the nearest candidates are the likely ones). Relation
    scores are independent sigmoids, so one pair may carry two relations.
    """

    def __init__(self, encoder: nn.Module, num_tags: int, num_entity_types: int, num_relations: int,
                 relation_dim: int = 256, distance_dim: int = 32, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.tagger = nn.Linear(hidden, num_tags)
        self.num_relations = num_relations
        if not num_relations:
            # an entity-only schema (ANERcorp, say) gets no relation head, rather than one with
            # empty weights, which checkpoints do not save reliably
            return
        self.type_embedding = nn.Embedding(num_entity_types, 32)
        self.entity_proj = nn.Sequential(nn.Linear(2 * hidden + 32, relation_dim), nn.GELU())
        self.distance_embedding = nn.Embedding(2 * DISTANCE_BUCKETS, distance_dim) if distance_dim else None
        self.relation_scorer = nn.Sequential(
            nn.Linear(3 * relation_dim + distance_dim, relation_dim), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(relation_dim, num_relations))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, word_window: torch.Tensor,
                word_position: torch.Tensor, entity_first: torch.Tensor, entity_last: torch.Tensor,
                entity_type: torch.Tensor, pair_head: torch.Tensor, pair_tail: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Tag logits per word and relation logits per pair of given (gold) entities, for training.

        Inference calls the three steps separately, since its entities come from the tags.
        """
        words = self.word_vectors(input_ids, attention_mask, word_window, word_position)
        return self.tag_logits(words), self.relation_logits(words, entity_first, entity_last, entity_type,
                                                            pair_head, pair_tail)

    def word_vectors(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                     word_window: torch.Tensor, word_position: torch.Tensor) -> torch.Tensor:
        """Encode the windows and gather each word's first-sub-word vector: ``[num_words, hidden]``."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.dropout(hidden[word_window, word_position])

    def tag_logits(self, words: torch.Tensor) -> torch.Tensor:
        return self.tagger(words)

    def relation_logits(self, words: torch.Tensor, entity_first: torch.Tensor, entity_last: torch.Tensor,
                        entity_type: torch.Tensor, pair_head: torch.Tensor, pair_tail: torch.Tensor) -> torch.Tensor:
        """Scores ``[num_pairs, num_relations]`` for pairs of entities given by word indices."""
        if pair_head.numel() == 0:
            return words.new_zeros((0, self.num_relations))
        entities = self.entity_proj(torch.cat(
            [words[entity_first], words[entity_last], self.type_embedding(entity_type)], dim=-1))
        head, tail = entities[pair_head], entities[pair_tail]
        pair = [head, tail, head * tail]
        if self.distance_embedding is not None:
            distance = entity_first[pair_tail] - entity_first[pair_head]
            pair.append(self.distance_embedding(distance_bucket(distance)))
        return self.relation_scorer(torch.cat(pair, dim=-1))


DISTANCE_BUCKETS = 10   # per direction: 0, 1, 2, 3, 4, 5-7, 8-15, 16-31, 32-63, 64 and more words


def distance_bucket(distance: torch.Tensor) -> torch.Tensor:
    """Signed word distances to bucket ids: exact up to 4, then one bucket per power of two."""
    size = distance.abs()
    log_bucket = 3 + torch.log2(size.clamp(min=1).float()).long()
    bucket = torch.where(size < 5, size, log_bucket).clamp(max=DISTANCE_BUCKETS - 1)
    return torch.where(distance < 0, bucket + DISTANCE_BUCKETS, bucket)
