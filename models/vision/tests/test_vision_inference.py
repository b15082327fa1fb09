"""inference.py under the SageMaker PyTorch inference contract: model_fn, input_fn, predict_fn, output_fn."""
from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import vision_inference as inference
from vision_support import JOB_NAME
from vision_synthetic import COLOURS, draw


def image_bytes(fmt: str, colour: str = "red", seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    draw(COLOURS[colour], 40, np.random.default_rng(seed)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def served(trained):
    return inference.model_fn(trained["model_dir"])


def invoke(model, body: bytes, content_type: str, accept: str = "application/json"):
    """The container's default transform: input_fn -> predict_fn -> output_fn."""
    return inference.output_fn(inference.predict_fn(inference.input_fn(body, content_type), model), accept)


@pytest.mark.parametrize("fmt, content_type", [
    ("PNG", "image/png"), ("JPEG", "image/jpeg"), ("PNG", "application/x-image"),
    ("JPEG", "application/x-image"), ("JPEG", "Image/JPEG; charset=binary"),
])
def test_an_image_gets_probabilities_top_k_and_an_embedding(trained, served, fmt, content_type):
    body, response_type = invoke(served, image_bytes(fmt), content_type)
    answer = json.loads(body)
    assert response_type == "application/json"
    assert set(answer) == {"label", "probabilities", "top_k", "embedding", "model_version"}
    assert answer["model_version"] == JOB_NAME
    probabilities = answer["probabilities"]
    assert len(probabilities) == 3 and all(0 <= p <= 1 for p in probabilities)
    assert math.isclose(sum(probabilities), 1.0, abs_tol=1e-9)
    classes = json.load(open(os.path.join(trained["model_dir"], "classes.json")))
    assert answer["label"] == classes[int(np.argmax(probabilities))]
    assert [t["label"] for t in answer["top_k"]][0] == answer["label"]
    assert len(answer["top_k"]) == 2  # top_k=2 was recorded with the model
    assert answer["top_k"][0]["probability"] >= answer["top_k"][1]["probability"]
    assert answer["top_k"][0]["probability"] == max(probabilities)
    assert len(answer["embedding"]) == served.config["embedding_dim"] == 16
    assert all(math.isfinite(x) for x in answer["embedding"])


def test_the_model_separates_what_it_was_trained_on(served):
    """Different colours give different embeddings and, for most images, the right label."""
    right = 0
    embeddings = {}
    for colour in ("red", "green", "blue"):
        for seed in range(4):
            answer = json.loads(invoke(served, image_bytes("PNG", colour, seed + 100), "image/png")[0])
            right += answer["label"] == colour
            embeddings.setdefault(colour, []).append(answer["embedding"])
    assert right >= 8, f"{right}/12 right"  # chance is 4/12
    assert not np.allclose(np.mean(embeddings["red"], 0), np.mean(embeddings["blue"], 0), atol=1e-3)


def test_model_fn_loads_in_eval_mode(served):
    assert not served.net.training
    assert served.classes == ["blue", "green", "red"]
    assert str(served.device) == "cpu"


@pytest.mark.parametrize("content_type", ["text/csv", "application/json", "image/gif", None, ""])
def test_other_content_types_are_415(content_type):
    with pytest.raises(inference.RequestError) as error:
        inference.input_fn(image_bytes("PNG"), content_type)
    assert error.value.status_code == 415
    assert "is not supported; send one image as application/x-image, image/jpeg, image/png" in error.value.message


@pytest.mark.parametrize("body, content_type, detail", [
    (b"definitely not an image", "application/x-image", "not a decodable JPEG or PNG image"),
    (b"", "image/png", "the request body is empty"),
    (image_bytes("PNG")[:60], "image/png", "not a decodable PNG image"),
    (image_bytes("PNG"), "image/jpeg", "not a decodable JPEG image"),
    (image_bytes("GIF"), "application/x-image", "not a decodable JPEG or PNG image"),
])
def test_undecodable_bodies_are_400_with_a_reason(body, content_type, detail):
    with pytest.raises(inference.RequestError) as error:
        inference.input_fn(body, content_type)
    assert error.value.status_code == 400 and detail in error.value.message
    assert error.value.phrase == error.value.message and "\n" not in error.value.message


def test_errors_have_the_toolkit_shape():
    error = inference.RequestError(415, "nope")
    assert isinstance(error, inference.BaseInferenceToolkitError)
    assert (error.status_code, error.message, error.phrase) == (415, "nope", "nope")


def test_accept_must_allow_json(served):
    prediction = inference.predict_fn(inference.input_fn(image_bytes("PNG"), "image/png"), served)
    for accept in (None, "*/*", "application/json", "text/csv, application/json;q=0.5"):
        assert inference.output_fn(prediction, accept)[1] == "application/json"
    with pytest.raises(inference.RequestError) as error:
        inference.output_fn(prediction, "text/csv")
    assert error.value.status_code == 406


def test_the_model_directory_serves_on_its_own(trained):
    """As in the container: a fresh interpreter with only <model dir>/code on the path."""
    model_dir = trained["model_dir"]
    script = (
        "import json, sys, inference\n"
        "model = inference.model_fn(sys.argv[1])\n"
        "body = open(sys.argv[2], 'rb').read()\n"
        "data = inference.input_fn(body, 'image/jpeg')\n"
        "out = inference.output_fn(inference.predict_fn(data, model), 'application/json')\n"
        "print(json.dumps({'body': out[0], 'type': out[1], 'module': inference.__file__}))\n"
    )
    image = os.path.join(trained["root"], "probe.jpg")
    with open(image, "wb") as f:
        f.write(image_bytes("JPEG", "green", 7))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.path.join(model_dir, "code")
    run = subprocess.run([sys.executable, "-c", script, model_dir, image], cwd=trained["root"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["module"] == os.path.join(model_dir, "code", "inference.py")
    local = json.loads(invoke(inference.model_fn(model_dir), image_bytes("JPEG", "green", 7), "image/jpeg")[0])
    remote = json.loads(result["body"])
    assert remote["label"] == local["label"]
    assert np.allclose(remote["probabilities"], local["probabilities"], atol=1e-6)
    assert np.allclose(remote["embedding"], local["embedding"], atol=1e-5)
    assert remote["model_version"] == local["model_version"] == JOB_NAME


def test_an_artifact_without_a_version_loads_and_answers_without_one(trained, tmp_path):
    """Artifacts trained before the version was recorded (or locally, without a job name) still serve."""
    model_dir = str(tmp_path / "old")
    shutil.copytree(trained["model_dir"], model_dir)
    config_path = os.path.join(model_dir, "model_config.json")
    config = json.load(open(config_path))
    del config["model_version"], config["training_job_name"]
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f)
    old = inference.model_fn(model_dir)
    assert old.model_version is None
    answer = json.loads(invoke(old, image_bytes("PNG"), "image/png")[0])
    assert "model_version" not in answer and answer["label"] in old.classes
