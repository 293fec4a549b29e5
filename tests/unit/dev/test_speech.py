"""How recognized text is compared with what was said (the tests' and benchmarks' WER)."""

from __future__ import annotations

import pytest

from captionist_dev.speech import normalize, split_compounds, word_error_rate


def test_spelling_choices_are_not_errors() -> None:
    """GIVEN text as an engine writes it (titles, digits, hyphens, punctuation, closed compounds)
    WHEN it is compared with the reference as read aloud
    THEN none of that counts as an error."""
    reference = "and mister john dashwood was ten years old and rather cold hearted"
    hypothesis = "And Mr. John Dashwood was 10 years old, and rather coldhearted."
    assert word_error_rate([reference], [hypothesis]) == 0
    assert word_error_rate([reference], [hypothesis.replace("coldhearted", "cold-hearted")]) == 0


def test_wrong_words_are_errors() -> None:
    """GIVEN a hypothesis with one word wrong and one missing out of ten
    THEN the word error rate is 0.2."""
    reference = "he was not an ill disposed young man at all"
    assert word_error_rate([reference], ["he was not an old disposed young man at"]) == 0.2
    assert word_error_rate([reference], [""]) == 1.0


def test_compounds_split_only_into_words_the_reference_has() -> None:
    """A joined word splits only when both halves are words of the reference."""
    assert split_compounds("coldhearted men", "cold hearted men") == "cold hearted men"
    assert split_compounds("sunflower", "cold hearted") == "sunflower"


def test_numbers_are_spelled_out() -> None:
    """Digits read as words: years as years."""
    assert normalize("In 1811, 2 men") == "in eighteen eleven two men"


def test_references_without_words_are_refused() -> None:
    with pytest.raises(ValueError, match="no words"):
        word_error_rate(["..."], ["words"])
