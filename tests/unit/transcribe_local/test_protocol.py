"""Query parameters and TranscriptEvent payloads, as Amazon Transcribe shapes them."""

from __future__ import annotations

import json

import pytest

from captionist_transcribe_local.engines.base import Result, Word, new_result_id
from captionist_transcribe_local.protocol import (
    ParameterError,
    StreamParameters,
    parse_parameters,
    transcript,
    transcript_payload,
)

LANGUAGES = frozenset({"en-US"})
VALID = {"language-code": "en-US", "media-encoding": "pcm", "sample-rate": "16000"}


@pytest.mark.parametrize("rate", ["8000", "16000", "44100", "48000"])
def test_supported_parameters_are_accepted(rate: str) -> None:
    """GIVEN pcm in en-US at a rate within 8000..48000
    WHEN the query is parsed
    THEN the session's parameters come out typed.
    """
    parameters = parse_parameters({**VALID, "sample-rate": rate}, LANGUAGES)

    assert parameters == StreamParameters("en-US", "pcm", int(rate))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"sample-rate": "7999"}, "greater than or equal to 8000"),
        ({"sample-rate": "48001"}, "less than or equal to 48000"),
        ({"sample-rate": "16k"}, "mediaSampleRateHertz"),
        ({"sample-rate": None}, "sample-rate is required"),
        ({"media-encoding": "ogg-opus"}, "not supported here"),
        ({"media-encoding": "wav"}, "mediaEncoding"),
        ({"media-encoding": None}, "media-encoding is required"),
        ({"language-code": "de-DE"}, "languageCode"),
        ({"language-code": None}, "language-code is required"),
    ],
)
def test_unsupported_parameters_are_bad_requests(
    change: dict[str, str | None], fragment: str
) -> None:
    """GIVEN a query with one parameter missing, out of range or unsupported
    WHEN it is parsed
    THEN a BadRequestException names the parameter, as Transcribe's validation messages do.
    """
    query = {k: v for k, v in {**VALID, **change}.items() if v is not None}

    with pytest.raises(ParameterError) as refused:
        parse_parameters(query, LANGUAGES)

    assert refused.value.code == "BadRequestException"
    assert fragment in refused.value.message


def test_a_final_result_has_transcribes_shape() -> None:
    """GIVEN a final result of two words
    WHEN it is rendered as a TranscriptEvent payload
    THEN it has Transcribe's Results/Alternatives/Items shape, times in seconds, ChannelId ch_0,
    and no Stable flag when the engine does not say.
    """
    result_id = new_result_id()
    result = Result(
        result_id=result_id,
        start=0.51,
        end=1.12,
        is_partial=False,
        text="go forward",
        words=(Word("go", 0.51, 0.66), Word("forward", 0.67, 1.12)),
    )

    payload = json.loads(transcript_payload(result))

    assert payload == {
        "Transcript": {
            "Results": [
                {
                    "ResultId": result_id,
                    "StartTime": 0.51,
                    "EndTime": 1.12,
                    "IsPartial": False,
                    "Alternatives": [
                        {
                            "Transcript": "go forward",
                            "Items": [
                                {
                                    "StartTime": 0.51,
                                    "EndTime": 0.66,
                                    "Type": "pronunciation",
                                    "Content": "go",
                                    "VocabularyFilterMatch": False,
                                },
                                {
                                    "StartTime": 0.67,
                                    "EndTime": 1.12,
                                    "Type": "pronunciation",
                                    "Content": "forward",
                                    "VocabularyFilterMatch": False,
                                },
                            ],
                        }
                    ],
                    "ChannelId": "ch_0",
                }
            ]
        }
    }


def test_a_partial_carries_stable_flags_when_the_engine_gives_them() -> None:
    """GIVEN a partial result whose first word the engine marks stable
    WHEN it is rendered
    THEN IsPartial is true and each item carries its Stable flag.
    """
    result = Result(
        new_result_id(),
        0.5,
        1.0,
        is_partial=True,
        text="go for",
        words=(Word("go", 0.5, 0.6, stable=True), Word("for", 0.7, 1.0, stable=False)),
    )

    rendered = transcript(result)["Transcript"]["Results"][0]

    assert rendered["IsPartial"] is True
    assert [item["Stable"] for item in rendered["Alternatives"][0]["Items"]] == [True, False]
