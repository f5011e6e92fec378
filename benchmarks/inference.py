"""Inference speed of marsad's batch predictor against the transformers pipeline, on ANT news.

Default mode: one run, one machine, one set of articles, one encoder (an AraBERT-base-sized
BERT with random weights, since speed does not depend on what the weights learnt), measuring

* the machine's fp32 matmul throughput, so speeds can be read as model FLOP utilisation (MFU);
* ``Predictor.predict`` (entities and relations) in fp32, bf16 (when the CPU has native bf16
  arithmetic: AVX512-BF16 or AMX) and int8 (dynamic quantisation, calibrated on 32 other articles);
* the ``token-classification`` pipeline of transformers over the same encoder weights, one
  article per call, as most users would run it.

``--memory``: peak memory of streaming ``marsad.batch.run_batch`` over 1,000 and 20,000
articles, each size in a fresh process, with a small encoder (the pipeline's memory is the point).

    python benchmarks/inference.py                 # about 3.5 minutes on 2 idle CPU cores
    python benchmarks/inference.py --device cuda --batch-size 256   # fp32, bf16, fp16 and the pipeline on a GPU
    python benchmarks/inference.py --memory
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import BertConfig, BertForTokenClassification, BertModel, pipeline
from transformers.utils import logging as hf_logging

from marsad import Document, load_schema
from marsad.batch import run_batch
from marsad.encoders import build_encoder, train_wordpiece
from marsad.inference import Predictor, cpu_precisions
from marsad.config import ModelSettings
from marsad.model import MarsadModel
from marsad.quantization import calibrate

# shared/ sits beside the project (see shared/data/README.md); the corpus is read in place
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared/data/ant-news/ant-news-v2.1.jsonl.gz"
NEWS_CATEGORIES = ("middleEast", "internationalNews")
VOCAB_ARTICLES = 5000   # the WordPiece vocabulary is trained on this many news articles

# AraBERT-base's shape (aubmindlab/bert-base-arabertv02)
BASE_ENCODER = dict(vocab_size=64000, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, max_position_embeddings=512)
MAX_LENGTH, STRIDE = 512, 128
MEMORY_SIZES = (1000, 20000)
CALIBRATION_ARTICLES = 32

# warnings about randomly initialised weights are expected here; at import, so the memory
# mode's child processes are quiet too
hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()


def iter_articles(corpus: Path) -> Iterator[Document]:
    """Conflict-relevant ANT articles (world and Middle East news) in file order."""
    if not corpus.is_file():
        raise SystemExit(f"ANT corpus not found: {corpus}\n"
                         "Pass its path with --corpus (shared/data/README.md says where it comes from).")
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record["category"] in NEWS_CATEGORIES and record["text"].strip():
                yield Document(record["text"], record["id"])


def cached_folder(folder: Path, build) -> Path:
    """``folder``, made by ``build(tmp)`` the first time; a build cut short leaves no half folder."""
    if not folder.is_dir():
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        build(tmp)
        tmp.rename(folder)
    return folder


def base_encoder(corpus: Path, work_dir: Path) -> Path:
    """An AraBERT-base-sized BERT with random weights and a WordPiece vocabulary of ANT news."""
    def build(folder: Path) -> None:
        texts = (d.text for d in itertools.islice(iter_articles(corpus), VOCAB_ARTICLES))
        tokenizer = train_wordpiece(texts, BASE_ENCODER["vocab_size"])
        tokenizer.model_max_length = MAX_LENGTH   # the pipeline cuts long articles into windows of this
        torch.manual_seed(0)
        config = BertConfig(**BASE_ENCODER, pad_token_id=tokenizer.pad_token_id)
        BertModel(config, add_pooling_layer=False).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return cached_folder(work_dir / "encoder-base", build)


def marsad_model(encoder: Path, outside_bias: float) -> MarsadModel:
    """A marsad model over ``encoder`` with random heads, the same ones every run.

    Random tagger weights put an entity on every other word, and the relation head then scores
    hundreds of pairs an article, work that a trained model never does; ``outside_bias`` raises
    the O tag's logit so the heads find a trained model's dozen or so entities an article.
    """
    torch.manual_seed(0)
    model = MarsadModel.from_encoder(str(encoder), load_schema(),
                                     ModelSettings(preprocessing="none", max_length=MAX_LENGTH, stride=STRIDE))
    with torch.no_grad():
        model.network.tagger.bias[model.labels.tags.index("O")] += outside_bias
    return model


def matmul_flops_per_second(device: torch.device, tokens: int = 2048, repeats: int = 10) -> float:
    """fp32 FLOP/s of the matmuls a BERT-base layer does on ``tokens`` tokens (on the CPU: on all threads)."""
    shapes = [(768, 768), (768, 3072), (3072, 768)]   # attention projections, feed-forward in and out
    pairs = [(torch.randn(tokens, k, device=device), torch.randn(k, n, device=device)) for k, n in shapes]
    for a, b in pairs:   # warm-up: the first calls allocate and pick kernels
        a @ b
    synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        for a, b in pairs:
            a @ b
    synchronize(device)
    seconds = time.perf_counter() - start
    return sum(2 * tokens * k * n for k, n in shapes) * repeats / seconds


def synchronize(device: torch.device) -> None:
    """Wait for the GPU's queued work, so the clock measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class FedTokens:
    """What an encoder is actually fed, read from its attention masks by a forward hook."""

    def __init__(self, encoder: torch.nn.Module):
        self.windows: list[int] = []   # real (unpadded) length of every window
        self.padded = 0                # positions computed, padding included
        self._hook = encoder.register_forward_pre_hook(self._record, with_kwargs=True)

    def _record(self, module, args, kwargs) -> None:
        mask = kwargs["attention_mask"]
        self.windows += mask.sum(dim=1).tolist()
        self.padded += mask.numel()

    def reset(self) -> None:
        self.windows, self.padded = [], 0

    def stop(self) -> tuple[list[int], int]:
        """Stop counting (later runs may share the encoder) and return the windows and padded positions."""
        self._hook.remove()
        return self.windows, self.padded


@dataclass
class Run:
    """One timed variant: its wall and CPU time and the windows its encoder was fed."""

    name: str
    articles: int
    seconds: float
    cpu_seconds: float   # all threads of the process: about threads x seconds when the cores are free
    windows: list[int]
    padded: int

    def row(self, encoder: BertModel, matmul_flops: float, baseline: "Run") -> dict:
        tokens = sum(self.windows)
        return {"variant": self.name, "articles_per_s": self.articles / self.seconds,
                "tokens_per_s": tokens / self.seconds, "cores_busy": self.cpu_seconds / self.seconds,
                "speedup": baseline.seconds / self.seconds,   # same articles, so the articles/s ratio
                "mfu": encoder_flops(encoder, self.windows) / self.seconds / matmul_flops,
                "padding": (self.padded - tokens) / tokens,
                "tokens_per_article": tokens / self.articles, "seconds": self.seconds,
                "cpu_seconds": self.cpu_seconds}


def encoder_flops(encoder: BertModel, windows: list[int]) -> float:
    """Forward FLOPs: 2 per weight per token, plus attention's QK^T and AV on each real window.

    Embedding lookups cost no multiplies and the heads are a rounding error, so both are left out.
    """
    config = encoder.config
    weights = sum(p.numel() for name, p in encoder.named_parameters() if not name.startswith("embeddings."))
    attention = 2 * 2 * config.num_hidden_layers * config.hidden_size
    return sum(2 * weights * n + attention * n * n for n in windows)


def time_marsad(model: MarsadModel, docs: list[Document], precision: str, batch_size: int,
                device: torch.device) -> tuple[Run, list[Document]]:
    predictor = Predictor(model, device=device, precision=precision, batch_size=batch_size)
    fed = FedTokens(predictor.network.encoder)   # int8 runs a quantised copy: hook the one that runs
    predictor.predict(docs[:batch_size])         # warm-up batch
    fed.reset()
    start, cpu_start = time.perf_counter(), time.process_time()
    predicted = predictor.predict(docs)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return Run(f"marsad {precision} (batch {batch_size})", len(docs), seconds, cpu_seconds, *fed.stop()), predicted


def time_pipeline(model: MarsadModel, docs: list[Document], device: torch.device) -> Run:
    """The transformers token-classification pipeline over marsad's encoder weights, article by article."""
    tags = model.labels.tags
    config = BertConfig(**model.network.encoder.config.to_dict())
    config.id2label, config.label2id = dict(enumerate(tags)), {t: i for i, t in enumerate(tags)}
    classifier = BertForTokenClassification(config)
    classifier.bert.load_state_dict(model.network.encoder.state_dict())
    classifier.classifier.load_state_dict(model.network.tagger.state_dict())   # the same tag scores, O bias too
    # without stride, an article longer than one window fails; with it the pipeline windows it
    tagger = pipeline("token-classification", model=classifier.eval(), tokenizer=model.tokenizer,
                      aggregation_strategy="simple", stride=STRIDE, device=device)
    fed = FedTokens(classifier)
    tagger(docs[0].text)   # warm-up
    fed.reset()
    start, cpu_start = time.perf_counter(), time.process_time()
    for doc in docs:
        tagger(doc.text)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return Run("transformers pipeline (1 article/call)", len(docs), seconds, cpu_seconds, *fed.stop())


def benchmark(args) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    docs = list(itertools.islice(iter_articles(args.corpus), args.articles))
    encoder = base_encoder(args.corpus, args.work_dir)
    model = marsad_model(encoder, args.outside_bias)
    device = torch.device(args.device)
    precisions = cpu_precisions() if device.type == "cpu" else ("fp32", "bf16", "fp16")
    if "int8" in precisions:
        # int8's input ranges, from the articles after the timed ones (training does this for real models)
        model.calibration = calibrate(model, [d.text for d in itertools.islice(
            iter_articles(args.corpus), args.articles, args.articles + CALIBRATION_ARTICLES)])
    print(f"{len(docs)} articles ({', '.join(NEWS_CATEGORIES)}), {device}, {torch.get_num_threads()} CPU threads, "
          f"vocabulary {len(model.tokenizer)} WordPiece (embeddings {BASE_ENCODER['vocab_size']})", flush=True)

    matmul_before = matmul_flops_per_second(device)
    print(f"fp32 matmul throughput: {matmul_before / 1e9:.1f} GFLOP/s", flush=True)

    runs, predictions = [], {}
    for precision in precisions:
        run, predictions[precision] = time_marsad(model, docs, precision, args.batch_size, device)
        runs.append(run)
        print(f"  {run.name}: {run.seconds:.1f} s", flush=True)
    runs.append(time_pipeline(model, docs, device))
    print(f"  {runs[-1].name}: {runs[-1].seconds:.1f} s", flush=True)
    # measured again at the end: a drop means something else took the cores during the runs
    matmul_after = matmul_flops_per_second(device)
    matmul = max(matmul_before, matmul_after)
    rows = [run.row(model.network.encoder, matmul, baseline=runs[-1]) for run in runs]

    from marsad.evaluation import evaluate_documents   # here: it pulls in scikit-learn, a slow import
    agreement = {p: evaluate_documents(predictions["fp32"], predictions[p], model.schema)
                 for p in predictions if p != "fp32"}
    result = {
        "articles": len(docs), "device": str(device), "threads": torch.get_num_threads(), "batch_size": args.batch_size,
        "matmul_gflops": matmul / 1e9, "matmul_gflops_before": matmul_before / 1e9,
        "matmul_gflops_after": matmul_after / 1e9,
        "mean_words": statistics.mean(len(d.text.split()) for d in docs),
        "mean_entities_fp32": statistics.mean(len(d.entities) for d in predictions["fp32"]),
        "mean_relations_fp32": statistics.mean(len(d.relations) for d in predictions["fp32"]),
        "agreement_with_fp32": {p: {"entity_f1": a.entity_f1, "relation_f1": a.relation_f1} for p, a in agreement.items()},
        "runs": rows,
    }
    print_table(result)
    return result


def print_table(result: dict) -> None:
    print(f"\n{result['articles']} articles, {result['mean_words']:.0f} words each on average; "
          f"fp32 matmul {result['matmul_gflops_before']:.1f} GFLOP/s before the runs and "
          f"{result['matmul_gflops_after']:.1f} after, on {result.get('device', 'cpu')} "
          f"({result['threads']} CPU threads)")
    before, after = result["matmul_gflops_before"], result["matmul_gflops_after"]
    on_cpu = result.get("device", "cpu") == "cpu"
    starved = [r["variant"] for r in result["runs"] if on_cpu and r["cores_busy"] < 0.75 * result["threads"]]
    if starved or min(before, after) < 0.85 * max(before, after):
        print("WARNING: other processes were using the cores (matmul throughput changed by over 15%, or a run "
              f"kept fewer cores busy than it has threads: {', '.join(starved) or 'none'}): timings are not comparable")
    print("\n| variant | articles/s | tokens/s | x pipeline | MFU | cores busy | sub-words fed/article | padding |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in result["runs"]:
        print(f"| {r['variant']} | {r['articles_per_s']:.2f} | {r['tokens_per_s']:.0f} | {r['speedup']:.2f} | "
              f"{r['mfu']:.1%} | {r['cores_busy']:.2f} | {r['tokens_per_article']:.0f} | {r['padding']:.1%} |")
    print(f"\nfp32 found {result['mean_entities_fp32']:.1f} entities and {result['mean_relations_fp32']:.1f} "
          "relations an article; agreement with fp32 (F1, fp32 as gold):")
    for precision, agreement in result["agreement_with_fp32"].items():
        print(f"  {precision}: entities {agreement['entity_f1']:.3f}, relations {agreement['relation_f1']:.3f}")
    print("MFU = encoder FLOPs on real tokens / wall time / best fp32 matmul FLOP/s (bf16 and int8 too, so they "
          "can pass 100%); cores busy = CPU time / wall time; padding = padded positions / real tokens")


# --- memory mode ---------------------------------------------------------------------------

def small_encoder(corpus: Path, work_dir: Path) -> Path:
    """A 2-layer, 128-wide BERT: cheap to run, so a long stream finishes in minutes."""
    def build(folder: Path) -> None:
        texts = [d.text for d in itertools.islice(iter_articles(corpus), VOCAB_ARTICLES)]
        build_encoder(texts, folder, vocab_size=8000, hidden=128, layers=2, heads=2)
    return cached_folder(work_dir / "encoder-small", build)


def synthetic_jsonl(corpus: Path, work_dir: Path, size: int) -> Path:
    """``size`` ANT news articles, cycling through the corpus, as batch-input JSONL."""
    path = work_dir / f"ant-news-{size}.jsonl"
    if not path.is_file():
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            # a fresh id per copy, so repeated articles are distinct records
            for n, doc in enumerate(itertools.islice(itertools.cycle(iter_articles(corpus)), size)):
                f.write(json.dumps({"id": f"{doc.id}#{n}", "text": doc.text}, ensure_ascii=False) + "\n")
        tmp.rename(path)
    return path


def stream_peak_rss(encoder: Path, jsonl: Path, outside_bias: float) -> dict:
    """Peak resident memory (MB) once the model is loaded and after the stream; run in a fresh process."""
    # one thread: the small encoder gains nothing from two, and tiny ops (the Viterbi steps) slow
    # down badly under OpenMP when another process shares the cores
    torch.set_num_threads(1)
    model = marsad_model(encoder, outside_bias)
    predictor = Predictor(model, device="cpu", precision="fp32")
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # ru_maxrss is in KiB on Linux
    start = time.perf_counter()
    summary = run_batch(predictor, [jsonl], os.devnull, progress=False)
    return {"processed": summary.processed, "seconds": time.perf_counter() - start, "loaded_mb": loaded,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def memory(args) -> dict:
    encoder = small_encoder(args.corpus, args.work_dir)
    results = {}
    for size in MEMORY_SIZES:
        jsonl = synthetic_jsonl(args.corpus, args.work_dir, size)
        # a fresh interpreter per size, so no peak is carried over; it answers with one JSON line
        child = subprocess.run([sys.executable, __file__, "--stream-peak", str(encoder), str(jsonl),
                                "--outside-bias", str(args.outside_bias)], stdout=subprocess.PIPE, text=True, check=True)
        r = results[size] = json.loads(child.stdout)
        # the peak follows the longest articles (a chunk's longest are batched together), not the count
        with open(jsonl, encoding="utf-8") as f:
            r["longest_words"] = max(len(json.loads(line)["text"].split()) for line in f)
        print(f"{size:>6} articles: peak {r['peak_mb']:.0f} MB (model loaded: {r['loaded_mb']:.0f} MB, "
              f"stream +{r['peak_mb'] - r['loaded_mb']:.0f} MB), {r['processed'] / r['seconds']:.0f} articles/s, "
              f"longest article {r['longest_words']} words", flush=True)
    return {"memory": results}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="ANT news corpus (jsonl.gz)")
    parser.add_argument("--work-dir", type=Path, default=Path("runs/bench"),
                        help="where built encoders and synthetic inputs are cached between runs")
    parser.add_argument("--articles", type=int, default=200, help="news articles to predict, in file order")
    parser.add_argument("--batch-size", type=int, default=16,
                        help="marsad Predictor batch size, in windows (on a GPU try 256)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda: where both marsad and the pipeline run")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--outside-bias", type=float, default=1.5,
                        help="added to the random tagger's O logit, for a realistic number of entities (0: none)")
    parser.add_argument("--memory", action="store_true",
                        help=f"measure peak memory of streaming run_batch over {' and '.join(map(str, MEMORY_SIZES))} "
                             "articles instead, with a small encoder")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--stream-peak", nargs=2, type=Path, metavar=("ENCODER", "JSONL"),
                        help=argparse.SUPPRESS)   # --memory's child process
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.stream_peak:
        print(json.dumps(stream_peak_rss(*args.stream_peak, args.outside_bias)))
        return
    args.work_dir.mkdir(parents=True, exist_ok=True)
    result = memory(args) if args.memory else benchmark(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
