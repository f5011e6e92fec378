"""How long one article takes: a trained model (the embedded one by default) on the corpus
articles nearest a given length, one article a call, in each precision the CPU offers.

    python benchmarks/latency.py                       # 300-word articles, embedded model
    python benchmarks/latency.py --model runs/marsad-small/model-best --words 150
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from marsad.documents import read_jsonl
from marsad.inference import Predictor, cpu_precisions
from marsad.model import MarsadModel

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("train", "dev", "test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", help="model folder (default: the embedded model)")
    parser.add_argument("--words", type=int, default=300, help="article length, in whitespace-separated words")
    parser.add_argument("--articles", type=int, default=3, help="how many articles nearest that length")
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per article (the median is kept)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    docs = [d for split in SPLITS for d in read_jsonl(ROOT / "annotations" / f"{split}.jsonl")]
    docs = sorted(docs, key=lambda d: abs(len(d.text.split()) - args.words))[:args.articles]
    if args.model is None:
        from marsad.embedded import embedded_model_path
        args.model = embedded_model_path()
    model = MarsadModel.from_pretrained(args.model)
    print(f"{args.model}, {args.threads} threads; median of {args.repeats} calls per article")
    print("| precision | article | words | windows (sub-words) | ms |")
    print("|---|---|---:|---|---:|")
    for precision in cpu_precisions():
        predictor = Predictor(model, device="cpu", precision=precision)
        for doc in docs:
            predictor.predict([doc.text])   # warm-up
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                predictor.predict([doc.text])
                times.append(time.perf_counter() - start)
            windows = [len(w.input_ids) for w in model.featurize(doc).encoding.windows]
            print(f"| {precision} | {doc.id} | {len(doc.text.split())} | {windows} | "
                  f"{statistics.median(times) * 1000:.0f} |", flush=True)


if __name__ == "__main__":
    main()
