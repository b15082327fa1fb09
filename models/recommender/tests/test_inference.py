"""inference.py: the four handlers chained as the serving toolkit chains them, on the model trained in conftest."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from types import ModuleType
from typing import Optional, Tuple

import numpy as np
import pytest

from ranking_fixtures import NUM_FEATURES, make_groups


def serve(inference: ModuleType, model: object, body: object, content_type: Optional[str], accept: Optional[str]):
    """The default transform flow of the toolkits: input_fn -> predict_fn -> output_fn."""
    return inference.output_fn(inference.predict_fn(inference.input_fn(body, content_type), model), accept)


def rejected(
    inference: ModuleType, model: object, body: object, content_type: str = "text/csv", accept: str = "text/csv"
):
    """The RequestRejected that reaches the caller outside the containers (status_code and message)."""
    contract = sys.modules["ranking_contract"]
    with pytest.raises(contract.RequestRejected) as caught:
        serve(inference, model, body, content_type, accept)
    assert "\n" not in caught.value.message
    return caught.value


@pytest.fixture(scope="module")
def model(inference_module: ModuleType, trained: Tuple[Path, dict]) -> object:
    model_dir, _ = trained
    return inference_module.model_fn(str(model_dir))


def slate_csv(groups: int = 1, seed: int = 9) -> Tuple[str, np.ndarray]:
    table = make_groups(seed=seed, groups=groups, first_group_id=0)
    features = table[:, 2:]
    return "\n".join(",".join(f"{v:.6f}" for v in row) for row in features) + "\n", table[:, 0]


def test_model_fn_loads_the_booster_and_its_metadata(model: object) -> None:
    assert model.num_features == NUM_FEATURES
    assert model.feature_version == "test-v1"
    assert model.model_version == "job-1"


def test_a_slate_gets_one_distinct_score_per_candidate_as_json(inference_module: ModuleType, model: object) -> None:
    body, _ = slate_csv()
    response, content_type = serve(inference_module, model, body, "text/csv", "application/json")
    document = json.loads(response)
    assert content_type == "application/json"
    assert len(document["scores"]) == 12
    assert len(set(document["scores"])) == 12
    assert document["feature_version"] == "test-v1"
    assert document["model_version"] == "job-1"


def test_scores_rank_the_engaged_candidates_first(inference_module: ModuleType, model: object) -> None:
    body, labels = slate_csv(groups=20, seed=11)
    response, _ = serve(inference_module, model, body.encode(), "text/csv; charset=utf-8", "application/json")
    scores = np.array(json.loads(response)["scores"]).reshape(20, 12)
    top = np.argmax(scores, axis=1)
    assert np.mean(labels.reshape(20, 12)[np.arange(20), top] > 0) >= 0.8


def test_csv_output_is_one_score_per_line_in_row_order(inference_module: ModuleType, model: object) -> None:
    body, _ = slate_csv()
    csv_response, content_type = serve(inference_module, model, body, "text/csv", "text/csv")
    json_response, _ = serve(inference_module, model, body, "text/csv", None)
    assert content_type == "text/csv"
    assert [float(line) for line in csv_response.splitlines()] == json.loads(json_response)["scores"]
    assert csv_response.endswith("\n") and len(csv_response.splitlines()) == 12


def test_a_missing_or_wildcard_accept_means_json(inference_module: ModuleType, model: object) -> None:
    body, _ = slate_csv()
    assert serve(inference_module, model, body, "text/csv", "*/*")[1] == "application/json"
    assert serve(inference_module, model, body, "text/csv", "text/html, text/csv")[1] == "text/csv"


def test_an_empty_body_is_a_400(inference_module: ModuleType, model: object) -> None:
    rejection = rejected(inference_module, model, "")
    assert (rejection.status_code, rejection.message) == (
        400,
        "empty body; expected text/csv rows of feature values, one row per candidate",
    )


def test_a_wrong_column_count_is_a_400_with_its_line(inference_module: ModuleType, model: object) -> None:
    body = "0.1,0.2,0.3,0.4,0.5,0.6\n0.1,0.2,0.3\n"
    rejection = rejected(inference_module, model, body)
    assert (rejection.status_code, rejection.message) == (
        400,
        "line 2 has 3 values; expected 6 (the model's features, feature_version test-v1)",
    )


def test_a_label_and_group_column_are_refused(inference_module: ModuleType, model: object) -> None:
    rejection = rejected(inference_module, model, "1,42,0.1,0.2,0.3,0.4,0.5,0.6")
    assert rejection.message.startswith("line 1 has 8 values; expected 6")


def test_a_non_numeric_value_is_a_400_with_line_and_column(inference_module: ModuleType, model: object) -> None:
    rejection = rejected(inference_module, model, "0.1,0.2,0.3,0.4,0.5,0.6\n0.1,x,0.3,0.4,0.5,nan\n")
    assert (rejection.status_code, rejection.message) == (
        400,
        "line 2 column 2: 'x' is not a finite number (no header row)",
    )
    assert rejected(inference_module, model, "0.1,0.2,0.3,0.4,0.5,nan").message.startswith("line 1 column 6: 'nan'")


def test_an_empty_line_is_a_400(inference_module: ModuleType, model: object) -> None:
    rejection = rejected(inference_module, model, "0.1,0.2,0.3,0.4,0.5,0.6\n\n0.1,0.2,0.3,0.4,0.5,0.6\n")
    assert rejection.message == "line 2 is empty; expected one row of feature values per line"


def test_non_utf8_bytes_are_a_400(inference_module: ModuleType, model: object) -> None:
    assert rejected(inference_module, model, b"\xff\xfe").message.startswith("body is not UTF-8 text")


def test_an_unsupported_content_type_is_a_415(inference_module: ModuleType, model: object) -> None:
    rejection = rejected(inference_module, model, '{"instances": []}', content_type="application/json")
    assert rejection.status_code == 415
    assert rejection.message == (
        "content type 'application/json' is not supported; send text/csv rows of feature values"
    )


def test_an_unsupported_accept_is_a_406(inference_module: ModuleType, model: object) -> None:
    rejection = rejected(inference_module, model, slate_csv()[0], accept="application/x-recordio-protobuf")
    assert rejection.status_code == 406


def _install(monkeypatch: pytest.MonkeyPatch, name: str, **attributes: object) -> None:
    module = types.ModuleType(name)
    for key, value in attributes.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)


def test_in_the_xgboost_container_a_rejection_is_a_response_with_its_status(
    inference_module: ModuleType, model: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stands in for sagemaker_containers' Flask Response (not installable here): checks which branch is taken.
    class Response:
        def __init__(self, response: str, status: int, mimetype: str) -> None:
            self.response, self.status, self.mimetype = response, status, mimetype

    monkeypatch.delenv("SAGEMAKER_MULTI_MODEL", raising=False)
    for name in ("sagemaker_containers", "sagemaker_containers.beta", "sagemaker_containers.beta.framework"):
        _install(monkeypatch, name)
    _install(monkeypatch, "sagemaker_containers.beta.framework.worker", Response=Response)
    framework = sys.modules["sagemaker_containers.beta.framework"]
    framework.worker = sys.modules["sagemaker_containers.beta.framework.worker"]
    response = serve(inference_module, model, "", "text/csv", "text/csv")
    assert (response.status, response.mimetype) == (400, "text/plain")
    assert response.response.startswith("empty body")


def test_on_a_multi_model_endpoint_a_rejection_raises_the_toolkit_error(
    inference_module: ModuleType, model: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    class GenericInferenceToolkitError(Exception):
        def __init__(self, status_code: int, message: str) -> None:
            super().__init__(message)
            self.status_code = status_code

    monkeypatch.setenv("SAGEMAKER_MULTI_MODEL", "true")
    _install(monkeypatch, "sagemaker_inference")
    _install(monkeypatch, "sagemaker_inference.errors", GenericInferenceToolkitError=GenericInferenceToolkitError)
    sys.modules["sagemaker_inference"].errors = sys.modules["sagemaker_inference.errors"]
    with pytest.raises(GenericInferenceToolkitError) as caught:
        serve(inference_module, model, "1,2", "text/csv", "text/csv")
    assert caught.value.status_code == 400
