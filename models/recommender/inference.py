"""Serving handlers of the recommender's ranker, loaded from ``code/inference.py`` inside model.tar.gz.

The serving toolkit calls ``model_fn`` once, then per request ``input_fn -> predict_fn -> output_fn``. A request
body is ``text/csv``: one row per candidate, exactly ``num_features`` numbers in the feature contract's order
(no label, no group id). Bad input is answered 400 (malformed CSV), 415 (content type) or 406 (accept) with a
one-line reason: the rejection travels through predict_fn to output_fn, which renders it for the serving stack
(see ranking_contract.rejection_response and README.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

import numpy as np
import xgboost as xgb

from ranking_contract import (
    CSV,
    DEFAULT_ACCEPT,
    JSON,
    METADATA_FILE,
    MODEL_FILE,
    RequestRejected,
    media_type,
    parse_number,
    rejection_response,
    shown,
)

Body = Union[str, bytes, bytearray]


@dataclass
class RankerModel:
    """The booster and what the model knows about the features it was trained on."""

    booster: xgb.Booster
    num_features: int
    feature_version: Optional[str]
    model_version: Optional[str]


@dataclass
class CsvRequest:
    """The parsed rows of a request; their widths are checked against the model in predict_fn."""

    rows: List[List[float]]


@dataclass
class Scores:
    values: np.ndarray
    feature_version: Optional[str]
    model_version: Optional[str]


def model_fn(model_dir: str) -> RankerModel:
    """Load the booster and its metadata.json (written by train.py)."""
    with open(os.path.join(model_dir, METADATA_FILE), encoding="utf-8") as handle:
        metadata = json.load(handle)
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, MODEL_FILE))
    return RankerModel(
        booster=booster,
        num_features=int(metadata["num_features"]),
        feature_version=metadata.get("feature_version"),
        model_version=metadata.get("model_version"),
    )


def _text(body: Body) -> str:
    if isinstance(body, (bytes, bytearray)):
        try:
            return bytes(body).decode("utf-8")
        except UnicodeDecodeError as error:
            raise RequestRejected(400, f"body is not UTF-8 text (byte {error.start}); expected text/csv") from None
    return body


def parse_csv_rows(text: str) -> List[List[float]]:
    """Rows of numbers; one trailing newline is allowed, empty lines and non-numbers are not."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines:
        raise RequestRejected(400, "empty body; expected text/csv rows of feature values, one row per candidate")
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise RequestRejected(400, f"line {number} is empty; expected one row of feature values per line")
        row = []
        for column, field in enumerate(line.split(","), start=1):
            value = parse_number(field)
            if value is None:
                raise RequestRejected(
                    400, f"line {number} column {column}: {shown(field)} is not a finite number (no header row)"
                )
            row.append(value)
        rows.append(row)
    return rows


def input_fn(request_body: Body, request_content_type: Optional[str]) -> Union[CsvRequest, RequestRejected]:
    """Parse a text/csv body; a malformed one becomes a rejection that output_fn answers."""
    try:
        if media_type(request_content_type) != CSV:
            raise RequestRejected(
                415, f"content type {request_content_type!r} is not supported; send text/csv rows of feature values"
            )
        return CsvRequest(rows=parse_csv_rows(_text(request_body)))
    except RequestRejected as rejection:
        return rejection


def _check_widths(rows: List[List[float]], model: RankerModel) -> Optional[RequestRejected]:
    for number, row in enumerate(rows, start=1):
        if len(row) != model.num_features:
            version = f", feature_version {model.feature_version}" if model.feature_version else ""
            return RequestRejected(
                400,
                f"line {number} has {len(row)} values; expected {model.num_features} (the model's features{version})",
            )
    return None


def predict_fn(input_data: Union[CsvRequest, RequestRejected], model: RankerModel) -> Union[Scores, RequestRejected]:
    """One score per row (higher ranks first); rejections pass through to output_fn."""
    if isinstance(input_data, RequestRejected):
        return input_data
    rejection = _check_widths(input_data.rows, model)
    if rejection is not None:
        return rejection
    matrix = np.asarray(input_data.rows, dtype=np.float32)
    values = model.booster.inplace_predict(matrix, validate_features=False)
    return Scores(values=np.asarray(values), feature_version=model.feature_version, model_version=model.model_version)


def _accepted(accept: Optional[str]) -> Optional[str]:
    """The first supported media type of an Accept value; a missing Accept or */* means the default (JSON)."""
    candidates = [media_type(part) for part in (accept or "").split(",")]
    for candidate in candidates:
        if candidate in ("", "*/*"):
            return DEFAULT_ACCEPT
        if candidate in (CSV, JSON):
            return candidate
    return None


def _score_text(value: float) -> str:
    return str(np.float32(value))


def output_fn(prediction: Union[Scores, RequestRejected], accept: Optional[str]) -> Union[Tuple[str, str], object]:
    """``application/json`` ``{"scores": [...], "model_version", "feature_version"}`` or ``text/csv`` (a score per
    line); a rejection becomes the error response of the serving stack."""
    if isinstance(prediction, RequestRejected):
        return rejection_response(prediction)
    media = _accepted(accept)
    if media is None:
        return rejection_response(RequestRejected(406, f"accept {accept!r} is not supported; use {JSON} or {CSV}"))
    texts = [_score_text(v) for v in prediction.values.tolist()]
    if media == CSV:
        return "".join(t + "\n" for t in texts), CSV
    document: dict = {"scores": [float(t) for t in texts]}
    if prediction.model_version:
        document["model_version"] = prediction.model_version
    if prediction.feature_version:
        document["feature_version"] = prediction.feature_version
    return json.dumps(document), JSON
