"""The ranker's contract shared by train.py and inference.py: file names, labels, number parsing, rejections.

train.py copies this module into the model's ``code/`` folder next to inference.py, so ``model.tar.gz`` serves
anywhere. See README.md for the data contract and the serving-stack facts the rejection rendering relies on.
"""

from __future__ import annotations

import math
import os
from typing import Optional

MODEL_FILE = "xgboost-model"
METADATA_FILE = "metadata.json"
CODE_DIR = "code"

MIN_LABEL = 0
MAX_LABEL = 3
LABEL_MEANING = "0 impression not engaged, 1 click, 2 watch, 3 purchase"

# Group ids are parsed as float64: integers above 2**53 would silently collide.
MAX_GROUP_ID = 2**53

CSV = "text/csv"
JSON = "application/json"
# What the serving stacks substitute for a missing Accept header or */* (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT).
DEFAULT_ACCEPT = JSON


def parse_number(field: str) -> Optional[float]:
    """The finite number a CSV field holds, or None (empty, not a number, NaN, infinite, or with '_' separators)."""
    text = field.strip()
    if not text or "_" in text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def shown(field: str, limit: int = 32) -> str:
    """A field quoted for an error message, truncated so one bad value cannot flood a log line."""
    text = field if len(field) <= limit else field[:limit] + "..."
    return repr(text)


def media_type(header: Optional[str]) -> str:
    """The media type of a Content-Type/Accept value, lower-cased and without parameters (``text/csv``)."""
    return (header or "").split(";", 1)[0].strip().lower()


class RequestRejected(Exception):
    """A request the handler refuses: the HTTP status the container answers and a one-line reason."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message

    def __str__(self) -> str:
        return self.message


def rejection_response(rejection: RequestRejected) -> object:
    """Turn a rejection into what the serving stack in use answers with ``rejection.status_code``.

    - SageMaker XGBoost 1.7-1, single model (gunicorn + Flask from sagemaker-containers): every exception a handler
      raises is wrapped in ``ClientError`` and answered 500, so the status travels in the returned
      ``worker.Response``.
    - Multi-model endpoints (``SAGEMAKER_MULTI_MODEL``: MMS + sagemaker-inference): a raised
      ``GenericInferenceToolkitError`` carries the status.
    - Elsewhere (this project's local container, tests): the rejection is raised; it has ``status_code``.
    """
    if os.environ.get("SAGEMAKER_MULTI_MODEL"):
        from sagemaker_inference.errors import GenericInferenceToolkitError  # type: ignore[import-not-found]

        raise GenericInferenceToolkitError(rejection.status_code, rejection.message)
    try:
        from sagemaker_containers.beta.framework import worker  # type: ignore[import-not-found]
    except ImportError:
        raise rejection from None
    return worker.Response(response=rejection.message, status=rejection.status_code, mimetype="text/plain")
