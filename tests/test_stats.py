from marsad import Document, Relation
from marsad.stats import corpus_stats


def test_counts_per_split_and_type(documents):
    stats = corpus_stats((d, d.meta["split"]) for d in documents)
    assert stats.splits == ["dev", "test", "train"]
    assert stats.documents == {"train": 2, "dev": 1, "test": 1}
    assert stats.words["test"] == 15  # 3.5 is two words
    assert stats.entities[("train", "ACTOR")] == 8 and stats.entities[("dev", "NUMBER")] == 1
    assert stats.relations[("train", "attacked")] == 3
    assert stats.argument_types[("attacked", "ACTOR", "LOCATION")] == 2
    assert stats.argument_types[("located_in", "LOCATION", "LOCATION")] == 2
    assert sum(stats.argument_types.values()) == sum(len(d.relations) for d in documents)


def test_markdown_has_a_total_column_and_the_argument_type_table(documents):
    md = corpus_stats((d, d.meta["split"]) for d in documents).to_markdown()
    assert "| | dev | test | train | total |" in md
    assert "| documents | 1 | 1 | 2 | 4 |" in md
    assert "| WEAPON | 0 | 1 | 1 | 2 |" in md
    assert "| attacked | 0 | 1 | 3 | 4 |" in md
    assert md.index("## Relation argument types") > md.index("## Relations")
    assert "| killed | NUMBER | ACTOR | 2 |" in md


def test_relation_to_a_missing_entity_counts_as_unknown_type():
    doc = Document("قصف", "d", [], [Relation("attacked", "T1", "T2")])
    assert corpus_stats([(doc, "train")]).argument_types == {("attacked", "?", "?"): 1}
