"""Content negotiation and answer encoding."""

from __future__ import annotations

import json

import numpy as np
import orjson
import pytest

from serving.encode import encode
from serving.errors import NotAcceptable
from serving.media import CSV, JSON, choose_answer_type, media_type
from serving.prediction import Prediction


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("Application/JSON; charset=utf-8", JSON),
        ("text/csv;header=absent", CSV),
    ],
)
def test_media_type_drops_parameters(header: str | None, expected: str) -> None:
    assert media_type(header) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("text/csv", CSV),
        ("text/*", CSV),
        ("application/json;q=0.5, text/csv", CSV),
        ("text/html, application/json;q=0.1", JSON),
    ],
)
def test_accept_picks_the_preferred_producible_type(accept: str | None, expected: str) -> None:
    assert choose_answer_type(accept) == expected


@pytest.mark.parametrize("accept", ["image/png", "text/csv;q=0", "text/html, application/xml"])
def test_accept_with_nothing_producible_is_not_acceptable(accept: str) -> None:
    with pytest.raises(NotAcceptable):
        choose_answer_type(accept)


def test_json_answer_with_probabilities() -> None:
    prediction = Prediction(np.array(["setosa", "virginica"]), np.array([[0.9, 0.1], [0.2, 0.8]]))
    assert json.loads(encode(prediction, JSON)) == {
        "predictions": ["setosa", "virginica"],
        "probabilities": [[0.9, 0.1], [0.2, 0.8]],
    }


def test_json_answer_of_numbers_stays_numeric() -> None:
    assert json.loads(encode(Prediction(np.array([1.5, 2.0])), JSON)) == {"predictions": [1.5, 2.0]}


def test_csv_answer_one_line_per_row_with_quoting() -> None:
    prediction = Prediction(np.array(["a,b", "c"]), np.array([[0.25, 0.75], [1.0, 0.0]]))
    assert encode(prediction, CSV) == b'"a,b",0.25,0.75\nc,1.0,0.0\n'


@pytest.mark.parametrize("media", ["application/json", "text/csv"])
def test_many_labels_encode_as_row_by_row_would(media: str) -> None:
    labels = np.asarray(["setosa", "virginica", 'say "hi", ok'] * 3000)
    fast = encode(Prediction(labels), media)
    few = [encode(Prediction(labels[i : i + 3]), media) for i in range(0, 9000, 3)]
    if media == "text/csv":
        assert fast == b"".join(few)
    else:
        assert orjson.loads(fast) == {"predictions": labels.tolist()}


def test_labels_the_first_rows_lack_are_still_encoded() -> None:
    labels = np.asarray(["setosa"] * 5000 + ["virginica", "versicolor"])
    document = orjson.loads(encode(Prediction(labels), "application/json"))
    assert document == {"predictions": labels.tolist()}
