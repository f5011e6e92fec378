"""The ``marsad`` command: a thin layer that parses arguments and calls library functions."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .config import CALIBRATION_DOCUMENTS, PRECISIONS, PretrainingArguments, TrainingArguments
from .errors import MarsadError
from .schema import load_schema

log = logging.getLogger("marsad")


def _validate(args: argparse.Namespace) -> int:
    from .formats import read_documents
    from .validate import validate_documents, validate_jsonl

    schema = load_schema(args.schema)
    total = 0
    for path in args.files:
        if Path(path).suffix == ".jsonl" and args.format in (None, "jsonl"):  # doccano's export is .jsonl too
            issues = validate_jsonl(path, schema)
        else:
            try:
                issues = validate_documents(read_documents(path, args.format), schema, path)
            except MarsadError as e:
                print(e)
                total += 1
                continue
        for issue in issues:
            print(issue)
        total += len(issues)
    print(f"{len(args.files)} file(s), {total} problem(s)", file=sys.stderr)
    return 1 if total else 0


def _convert(args: argparse.Namespace) -> int:
    from .formats import read_documents, write_documents

    docs = read_documents(args.input, args.input_format)
    write_documents(docs, args.output, args.output_format)
    print(f"{len(docs)} document(s) written to {args.output}", file=sys.stderr)
    return 0


def _stats(args: argparse.Namespace) -> int:
    from .formats import read_documents
    from .stats import corpus_stats

    def pairs():
        for path in args.files:
            for doc in read_documents(path, args.format):
                yield doc, str(doc.meta.get("split", Path(path).stem))

    print(corpus_stats(pairs()).to_markdown(), end="")
    return 0


def _config(args: argparse.Namespace, arguments_class: type):
    """The config file named by ``--config`` with the ``--key value`` options of the command line on top."""
    from dataclasses import fields

    overrides = {f.name: getattr(args, f.name) for f in fields(arguments_class)}
    return arguments_class.from_yaml(args.config, overrides)


def _train(args: argparse.Namespace) -> int:
    from .training import train

    best = train(_config(args, TrainingArguments))
    print(f"best model: {best}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_documents
    from .formats import read_documents

    if args.model:
        if not args.data:
            raise MarsadError("--model needs --data FILE (gold documents to predict and score)")
        from .training import evaluate

        report = evaluate(args.model, read_documents(args.data), batch_size=args.batch_size, device=args.device,
                          precision=args.precision)
    elif args.predictions and args.gold:
        report = evaluate_documents(read_documents(args.gold), read_documents(args.predictions), load_schema(args.schema))
    else:
        raise MarsadError("give --model DIR --data FILE, or --predictions FILE --gold FILE")
    markdown = report.to_markdown()
    print(markdown, end="")
    if args.output:
        import json

        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".json").write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
        out.with_suffix(".md").write_text(markdown, encoding="utf-8")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .batch import run_batch
    from .inference import Predictor

    if args.model:
        model = args.model
    else:
        from .embedded import embedded_model_path
        model = embedded_model_path()
    predictor = Predictor.from_pretrained(model, device=args.device, batch_size=args.batch_size,
                                          relation_threshold=args.relation_threshold, precision=args.precision)
    summary = run_batch(predictor, args.inputs, args.output, args.format, args.text_field, progress=not args.quiet)
    for error in summary.skipped:
        print(f"skipped: {error}", file=sys.stderr)
    print(f"{summary.processed} document(s) written to {args.output}, {len(summary.skipped)} skipped", file=sys.stderr)
    return 1 if summary.skipped else 0


def _calibrate(args: argparse.Namespace) -> int:
    from .batch import iter_inputs
    from .quantization import calibrate_folder

    texts = []
    for record in iter_inputs(args.inputs, args.text_field):
        if record.document is None:
            print(f"skipped: {record.error}", file=sys.stderr)
            continue
        texts.append(record.document.text)
        if len(texts) == args.documents:
            break
    if not texts:
        raise MarsadError("no usable documents in the inputs")
    path = calibrate_folder(args.model, texts, args.batch_size, args.device)
    print(f"int8 calibration from {len(texts)} document(s) written to {path}")
    return 0


def _pretrain(args: argparse.Namespace) -> int:
    from .pretraining import pretrain

    print(f"encoder: {pretrain(_config(args, PretrainingArguments))}")
    return 0


def _extract(args: argparse.Namespace) -> int:
    from .inference import predict

    if args.file:
        text = Path(args.file).read_text(encoding="utf-8")
    elif args.text:
        text = args.text
    else:
        raise MarsadError("give a text or --file FILE")
    doc = predict(text, model=args.model)
    print(text.strip(), end="\n\n")
    print(f"{len(doc.entities)} entities")
    for e in doc.entities:
        print(f"  {e.id:>4}  {e.type:<9} {e.start:>5}-{e.end:<5} {e.score:.2f}  {e.text}")
    print(f"{len(doc.relations)} relations")
    for r in doc.relations:
        print(f"  {r.type:<16} {doc.entity(r.head).text} -> {doc.entity(r.tail).text}  ({r.score:.2f})")
    return 0


def _add_overrides(parser: argparse.ArgumentParser, arguments_class: type) -> None:
    """One ``--key value`` option per field of a config dataclass (``--resume`` style for bools)."""
    from dataclasses import fields

    group = parser.add_argument_group("overrides", "any config key, e.g. --epochs 3 --output-dir runs/x")
    for f in fields(arguments_class):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            group.add_argument(flag, dest=f.name, action="store_const", const=True, default=None)
        else:
            kind = {"int": int, "float": float}.get(str(f.type).removesuffix(" | None"), str)
            group.add_argument(flag, dest=f.name, type=kind, default=None, metavar=f.name.upper())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="marsad", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check annotated files; prints file:line: field: message per problem")
    p.add_argument("files", nargs="+")
    p.add_argument("--schema", help="schema file (default: the packaged conflict-news schema)")
    p.add_argument("--format", help="input format when not JSONL (see `marsad convert --help`)")
    p.set_defaults(run=_validate)

    p = sub.add_parser("convert", help="convert between jsonl, conll, brat, labelstudio and doccano")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--from", dest="input_format", help="input format (default: from the file suffix)")
    p.add_argument("--to", dest="output_format", required=True, help="output format")
    p.set_defaults(run=_convert)

    p = sub.add_parser("stats", help="counts per type and split, and the relation argument-type table")
    p.add_argument("files", nargs="+")
    p.add_argument("--format", help="input format when not guessed from the suffix")
    p.set_defaults(run=_stats)

    p = sub.add_parser("train", help="fine-tune a joint entity and relation model")
    p.add_argument("--config", required=True, help="YAML config (see configs/)")
    _add_overrides(p, TrainingArguments)
    p.set_defaults(run=_train)

    p = sub.add_parser("pretrain", help="train a WordPiece vocabulary and a small BERT (masked LM) on news text")
    p.add_argument("--config", help="YAML config (see configs/pretrain-small.yaml)")
    _add_overrides(p, PretrainingArguments)
    p.set_defaults(run=_pretrain)

    p = sub.add_parser("evaluate", help="score a model on gold data, or a prediction file against gold")
    p.add_argument("--model", help="model folder or hub name")
    p.add_argument("--data", help="gold documents to predict and score (JSONL or CoNLL)")
    p.add_argument("--predictions", help="a prediction file to score without a model")
    p.add_argument("--gold", help="the gold file --predictions is scored against")
    p.add_argument("--schema", help="schema for --predictions (default: the packaged schema)")
    p.add_argument("--output", help="write the report as OUTPUT.json and OUTPUT.md")
    _add_inference_options(p)
    p.set_defaults(run=_evaluate)

    p = sub.add_parser("extract", help="print the entities and relations of one text")
    p.add_argument("text", nargs="?", help="the text (or use --file)")
    p.add_argument("--file", help="a UTF-8 text file holding one article")
    p.add_argument("--model", help="model folder or hub name (default: the embedded model)")
    p.set_defaults(run=_extract)

    p = sub.add_parser("predict", help="annotate JSONL or text files in batch")
    p.add_argument("inputs", nargs="+", help="JSONL files, .txt files or folders of them")
    p.add_argument("--output", required=True, help="output file (a folder for brat)")
    p.add_argument("--model", help="model folder or hub name (default: the embedded model)")
    p.add_argument("--format", default="jsonl", choices=("jsonl", "conll", "brat"))
    p.add_argument("--text-field", default="text",
                   help="JSONL field holding the text; other fields are kept in the output's meta")
    _add_inference_options(p)
    p.add_argument("--relation-threshold", type=float, help="default: the threshold stored with the model")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_predict)

    p = sub.add_parser("calibrate", help="measure a model's activation ranges for int8 inference (training "
                                         "does this itself; for models trained before it did)")
    p.add_argument("inputs", nargs="+", help="JSONL files, .txt files or folders of them; unannotated news will do")
    p.add_argument("--model", required=True, help="the model folder, where the ranges are stored")
    p.add_argument("--text-field", default="text", help="JSONL field holding the text")
    p.add_argument("--documents", type=int, default=CALIBRATION_DOCUMENTS, help="how many documents to read")
    _add_inference_options(p, precision=False)   # the ranges are measured in fp32
    p.set_defaults(run=_calibrate)
    return parser


def _add_inference_options(p: argparse.ArgumentParser, precision: bool = True) -> None:
    p.add_argument("--batch-size", type=int, default=16, help="windows per encoder batch")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: a GPU when present)")
    if precision:
        p.add_argument("--precision", default="auto", choices=PRECISIONS,
                       help="auto: bf16/fp16 on a GPU, fp32 on the CPU; bf16 is also fast on CPUs with "
                            "AVX512-BF16 or AMX; int8: dynamic quantisation on the CPU")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # training reports its epochs at INFO; other commands stay quiet unless asked
    verbose = args.verbose or args.command in ("train", "pretrain")
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    try:
        return args.run(args)
    except (MarsadError, OSError) as e:
        # expected failures (bad files, missing models) get one clear line, not a traceback
        print(f"marsad: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
