"""predict() and batch inference: exact offsets, long articles, bad input, order, the CLI."""

from __future__ import annotations

import json
import threading

import pytest

from marsad import Document, MarsadError, ModelNotFoundError
from marsad.cli import main
from marsad.evaluation import evaluate_documents
from marsad.inference import Predictor, predict

from conftest import long_document


@pytest.fixture(scope="module")
def predictor(tiny_model):
    return Predictor.from_pretrained(tiny_model)


def assert_offsets_exact(doc: Document, original: str) -> None:
    assert doc.text == original
    for e in doc.entities:
        assert original[e.start:e.end] == e.text
        assert 0.0 <= e.score <= 1.0
    ids = {e.id for e in doc.entities}
    assert all(r.head in ids and r.tail in ids for r in doc.relations)


def test_predict_finds_the_training_entities_at_their_offsets(predictor, documents):
    for gold, pred in zip(documents, predictor.predict([d.text for d in documents])):
        assert {(e.type, e.start, e.end) for e in pred.entities} == {(e.type, e.start, e.end) for e in gold.entities}


@pytest.mark.parametrize("decorate", [
    lambda t: t.replace("مدنياً", "مدنيًّا"),                 # diacritics
    lambda t: t.replace("الفاشر", "الفـاشر"),                 # tatweel
    lambda t: t.replace("12", "١٢"),                          # Eastern Arabic digits
    lambda t: "Reuters: " + t + " (AFP)",                      # mixed Latin and Arabic
    lambda t: "🔴 عاجل | " + t.replace("،", " 💥،"),          # emoji
    lambda t: t.replace(". ", ".\r\n"),                        # Windows line ends
], ids=["diacritics", "tatweel", "eastern-digits", "latin", "emoji", "crlf"])
def test_offsets_are_exact_on_the_callers_text(predictor, documents, decorate):
    text = decorate(documents[0].text)
    doc = predictor.predict([text])[0]
    assert_offsets_exact(doc, text)
    assert doc.entities  # so the offset check above is not vacuous


def test_article_longer_than_the_window_loses_and_duplicates_nothing(predictor):
    # the tiny model reads 128 sub-words at a time; this article is several windows long
    gold = long_document()
    doc = predictor.predict([Document(gold.text, gold.id)])[0]
    assert len(predictor.model.featurize(doc).encoding.windows) > 3
    assert_offsets_exact(doc, gold.text)
    assert [(e.type, e.start, e.end) for e in doc.entities] == [(e.type, e.start, e.end) for e in gold.entities]
    assert evaluate_documents([gold], [doc], predictor.model.schema).relation_f1 == 1.0


def test_relations_come_back_with_ids_types_and_scores(predictor, documents):
    doc = predictor.predict([documents[0]])[0]
    by_id = {e.id: e for e in doc.entities}
    found = {(r.type, by_id[r.head].text, by_id[r.tail].text) for r in doc.relations}
    assert ("killed", "12", "مدنياً") in found
    assert all(0.5 <= r.score <= 1.0 for r in doc.relations)


def test_order_is_kept_whatever_the_lengths(predictor, documents):
    texts = [documents[i % len(documents)].text[: 40 + 37 * i] for i in range(9)][::-1]
    docs = Predictor(predictor.model, batch_size=2).predict(texts)
    assert [d.text for d in docs] == texts


def test_batching_windows_by_length_changes_no_result(predictor, documents):
    # a long article's windows get split across encoder batches and mixed with other articles'
    texts = [long_document().text] + [d.text for d in documents]
    together = Predictor(predictor.model, batch_size=3).predict(texts)
    alone = [predictor.predict([t])[0] for t in texts]
    for a, b in zip(together, alone):
        assert [(e.type, e.start, e.end) for e in a.entities] == [(e.type, e.start, e.end) for e in b.entities]
        assert [(r.type, r.head, r.tail) for r in a.relations] == [(r.type, r.head, r.tail) for r in b.relations]
        assert [e.score for e in a.entities] == pytest.approx([e.score for e in b.entities], abs=1e-4)


@pytest.mark.parametrize("lengths,max_size", [([512, 500, 400, 390, 380, 100, 90, 3], 3), ([7] * 10, 4), ([9], 1)])
def test_similar_length_groups_cover_everything_with_little_padding(lengths, max_size):
    from marsad.inference import _similar_lengths

    groups = list(_similar_lengths(lengths, max_size))
    assert [k for g in groups for k in g] == list(range(len(lengths)))
    assert all(len(g) <= max_size and 8 * lengths[g[-1]] >= 7 * lengths[g[0]] for g in groups)


def test_similar_length_groups_keep_to_a_position_budget():
    from marsad.inference import _similar_lengths

    lengths = [512, 510, 509, 505, 500, 500] + [300] * 8
    assert [len(g) for g in _similar_lengths(lengths, 16, 2048)] == [4, 2, 6, 2]
    assert [len(g) for g in _similar_lengths([600, 590], 16, 512)] == [1, 1]   # too long for the budget: alone


def test_predict_returns_a_document_for_a_text_and_a_list_for_a_list(tiny_model, documents):
    one = predict(documents[1].text, model=tiny_model)
    many = predict([documents[1].text, Document(documents[2].text, "x")], model=tiny_model)
    assert isinstance(one, Document) and isinstance(many, list) and len(many) == 2
    assert many[1].id == "x"
    assert predict("نص", model=tiny_model) is not None


@pytest.mark.parametrize("bad,message", [
    ("", r"inputs\[0\]: empty text"),
    ("   \n", r"inputs\[0\]: empty text"),
    (42, r"inputs\[0\]: expected a str or Document, got int"),
])
def test_bad_inputs_get_a_clear_error(tiny_model, bad, message):
    with pytest.raises(MarsadError, match=message):
        predict([bad] if not isinstance(bad, str) else bad, model=tiny_model)


def test_a_missing_model_folder_is_named(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does-not-exist"):
        predict("قصف", model=tmp_path / "does-not-exist")


def test_non_arabic_text_is_processed_without_error(predictor):
    doc = predictor.predict(["The quick brown fox. 12345 !!!"])[0]
    assert_offsets_exact(doc, "The quick brown fox. 12345 !!!")


def test_one_predictor_serves_several_threads(predictor, documents):
    expected = [predictor.predict([d.text])[0].to_dict() for d in documents]
    results: dict[int, list] = {}

    def work(k: int) -> None:
        results[k] = [d.to_dict() for d in predictor.predict([d.text for d in documents])]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[k] == expected for k in range(4))


def test_batch_cli_skips_bad_records_reports_them_and_keeps_order(tmp_path, tiny_model, documents, capsys):
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": "a", "body": documents[0].text, "source": "وكالة"}, ensure_ascii=False), "{not json",
             json.dumps({"id": "b", "other": 1}), json.dumps({"id": "c", "body": "  "}),
             json.dumps({"id": "d", "body": documents[3].text}, ensure_ascii=False)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    txt = tmp_path / "article.txt"
    txt.write_bytes(documents[1].text.replace("\n", "\r\n").encode())
    out = tmp_path / "out.jsonl"
    code = main(["predict", "--model", str(tiny_model), str(src), str(txt), "--output", str(out),
                 "--text-field", "body", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{src}:2: malformed JSON" in err
    assert f"{src}:3: body: missing" in err
    assert f"{src}:4: body: empty text" in err
    assert "3 document(s) written" in err and "3 skipped" in err
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["id"] for d in written] == ["a", "d", "article"]
    assert written[0]["meta"] == {"source": "وكالة"}     # fields beside the text travel along
    assert "\r\n" in written[2]["text"]
    for d in written:
        assert all(d["text"][e["start"]:e["end"]] == e["text"] for e in d["entities"])


@pytest.mark.parametrize("fmt,check", [
    ("conll", lambda p: "B-ACTOR" in p.read_text(encoding="utf-8")),
    ("brat", lambda p: (p / "a.ann").read_text(encoding="utf-8").startswith("T1\t")),
])
def test_batch_cli_writes_conll_and_brat(tmp_path, tiny_model, documents, fmt, check):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": documents[0].text}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / f"out-{fmt}"
    assert main(["predict", "--model", str(tiny_model), str(src), "--output", str(out), "--format", fmt, "--quiet"]) == 0
    assert check(out)


def test_batch_cli_without_a_model_says_how_to_get_one(tmp_path, capsys, monkeypatch):
    import marsad.embedded as embedded
    monkeypatch.setattr(embedded, "EMBEDDED_MODEL_DIR", "no-such-model-dir")
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "قصف"}\n', encoding="utf-8")
    assert main(["predict", str(src), "--output", str(tmp_path / "o.jsonl")]) == 2
    assert "pass model= a trained model folder" in capsys.readouterr().err


def test_int8_predictor_keeps_offsets_and_mostly_agrees_with_fp32(tiny_model, documents):
    fp32 = Predictor.from_pretrained(tiny_model, precision="fp32").predict([d.text for d in documents])
    int8 = Predictor.from_pretrained(tiny_model, precision="int8").predict([d.text for d in documents])
    for a, b in zip(fp32, int8):
        assert_offsets_exact(b, a.text)
    same = sum(len({(e.type, e.start, e.end) for e in a.entities} & {(e.type, e.start, e.end) for e in b.entities})
               for a, b in zip(fp32, int8))
    assert same >= 0.9 * sum(len(a.entities) for a in fp32)


def test_unknown_precision_is_rejected(tiny_model):
    with pytest.raises(MarsadError, match="precision must be one of"):
        Predictor.from_pretrained(tiny_model, precision="int4")


def test_fp16_model_folder_is_half_the_size_and_predicts_the_same(tmp_path, tiny_model, documents):
    from marsad.model import MarsadModel

    model = MarsadModel.from_pretrained(tiny_model)
    model.save_pretrained(tmp_path / "half", half=True)
    full_size = (tiny_model / "model.safetensors").stat().st_size
    assert (tmp_path / "half" / "model.safetensors").stat().st_size < 0.6 * full_size
    texts = [d.text for d in documents]
    full = Predictor(model).predict(texts)
    half = Predictor.from_pretrained(tmp_path / "half").predict(texts)
    assert [[(e.type, e.start, e.end) for e in d.entities] for d in half] == \
        [[(e.type, e.start, e.end) for e in d.entities] for d in full]


def test_extract_cli_prints_entities_and_relations(tmp_path, tiny_model, documents, capsys):
    article = tmp_path / "article.txt"
    article.write_text(documents[0].text, encoding="utf-8")
    assert main(["extract", "--file", str(article), "--model", str(tiny_model)]) == 0
    out = capsys.readouterr().out
    assert "killed           12 -> مدنياً" in out
    assert "NUMBER" in out and "الفاشر" in out
