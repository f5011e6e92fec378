import pytest

from conftest import build_documents
from marsad.text import is_word_char, sentence_index, sentence_spans, token_spans, word_spans


def words(text):
    return [text[s:e] for s, e in word_spans(text)]


def tokens(text):
    return [text[s:e] for s, e in token_spans(text)]


def sentences(text):
    return [text[s:e] for s, e in sentence_spans(text)]


@pytest.mark.parametrize("text, expected", [
    ("قُتِلَ ثلاثةُ جنودٍ", ["قُتِلَ", "ثلاثةُ", "جنودٍ"]),                         # diacritics
    ("مقتل 12 مدنياً", ["مقتل", "12", "مدنياً"]),                                  # tanween ends the word
    ("أعلنت حركة الشبـــاب", ["أعلنت", "حركة", "الشبـــاب"]),                      # tatweel
    ("سقط ٣٧ قتيلاً و١٢ جريحاً", ["سقط", "٣٧", "قتيلاً", "و١٢", "جريحاً"]),          # Eastern Arabic digits
    ("أسقطت الدفاعات طائرة F-16 تابعة لـ ISIS", ["أسقطت", "الدفاعات", "طائرة", "F", "16", "تابعة", "لـ", "ISIS"]),
    ("بـF16 قصفت", ["بـF16", "قصفت"]),                                             # Latin glued to a clitic
    ("🔴 عاجل: غارة على غزة", ["عاجل", "غارة", "على", "غزة"]),                    # emoji
    ("\u2b55\ufe0fعاجل", ["عاجل"]),                                                # ⭕️: selector stays with the emoji
    ("قال «الجيش»، إن المسلحين فرّوا؛ لماذا؟", ["قال", "الجيش", "إن", "المسلحين", "فرّوا", "لماذا"]),
])
def test_word_spans_cover_whole_words_and_no_punctuation(text, expected):
    assert words(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("قال «الجيش»، إن المسلحين فرّوا؛ لماذا؟",
     ["قال", "«", "الجيش", "»", "،", "إن", "المسلحين", "فرّوا", "؛", "لماذا", "؟"]),
    ("🔴 عاجل: غارة", ["🔴", "عاجل", ":", "غارة"]),
    ("\u2b55\ufe0fعاجل", ["\u2b55\ufe0f", "عاجل"]),
    ("F-16 (أمريكية)", ["F", "-", "16", "(", "أمريكية", ")"]),
    ("بلغت النسبة 3.5٪", ["بلغت", "النسبة", "3", ".", "5", "٪"]),
])
def test_token_spans_split_off_every_punctuation_mark(text, expected):
    assert tokens(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("قتل 3.5 ألف شخص. ونزح آخرون", ["قتل 3.5 ألف شخص.", "ونزح آخرون"]),     # decimal point
    ("بلغت النسبة ٣.٥ في المئة. وقال", ["بلغت النسبة ٣.٥ في المئة.", "وقال"]),  # Eastern digits
    ("هل انسحب الجيش؟ نعم", ["هل انسحب الجيش؟", "نعم"]),
    ("قصف مدفعي\nغارات جوية", ["قصف مدفعي", "غارات جوية"]),
    ("قصف مدفعي\r\nغارات جوية\r\n", ["قصف مدفعي", "غارات جوية"]),
    ("قال: «انسحبنا.» ثم صمت", ["قال: «انسحبنا.»", "ثم صمت"]),                 # closing quote kept
    ("انتظروا... ثم هاجموا!", ["انتظروا...", "ثم هاجموا!"]),
    ("قتل ٣، وأصيب ٥؛ وفر الباقون", ["قتل ٣، وأصيب ٥؛ وفر الباقون"]),           # ، and ؛ do not end one
    ("  \n\n  ", []),
])
def test_sentence_spans_end_at_sentence_marks_and_line_breaks_only(text, expected):
    assert sentences(text) == expected


SAMPLES = [d.text for d in build_documents()] + [
    "🔴 عاجل: \u2b55\ufe0fقتل ٣٧ مدنياً!\r\nالمصدر: «رويترز» ؟", "  بـF-16 \t", "",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_offsets_index_the_original_text(text):
    for s, e in word_spans(text):
        assert 0 <= s < e <= len(text)
        assert not any(c.isspace() for c in text[s:e])
    covered = set()
    for s, e in token_spans(text):
        assert not any(c.isspace() for c in text[s:e])
        covered.update(range(s, e))
    # tokens never overlap, come in order and cover every character that is not white space
    assert sorted(covered) == [i for i, c in enumerate(text) if not c.isspace()]
    spans = sentence_spans(text)
    for s, e in spans:
        assert text[s:e] == text[s:e].strip() and text[s:e]
    assert spans == sorted(spans)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:]))


@pytest.mark.parametrize("text", SAMPLES)
def test_every_word_is_also_a_token(text):
    assert set(word_spans(text)) <= set(token_spans(text))


@pytest.mark.parametrize("char, expected", [
    ("ق", True), ("٣", True), ("F", True), ("\u064e", True), ("\u0640", True),
    (" ", False), ("،", False), ("؟", False), ("«", False), ("🔴", False),
])
def test_is_word_char_accepts_letters_digits_and_marks(char, expected):
    assert is_word_char(char) is expected


def test_sentence_index_finds_the_sentence_or_minus_one_between():
    text = "قصفت الطائرات حلب.  ونزح الآلاف."
    spans = sentence_spans(text)
    assert sentence_index(spans, text.index("حلب")) == 0
    assert sentence_index(spans, text.index("الآلاف")) == 1
    assert sentence_index(spans, text.index(".") + 1) == -1  # the white space between them


def test_invisible_format_characters_are_not_tokens():
    text = "قال\u200f الجيش\u200c: انسحبنا"
    assert [text[s:e] for s, e in token_spans(text)] == ["قال", "الجيش", ":", "انسحبنا"]
