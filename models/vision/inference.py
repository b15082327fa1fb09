"""Serving handlers for the SageMaker PyTorch inference container (``code/inference.py`` inside ``model.tar.gz``).

The container's toolkit puts ``<model dir>/code`` on the Python path, imports this module and calls
``model_fn(model_dir)`` once, then ``input_fn -> predict_fn -> output_fn`` per request. An exception derived from
``sagemaker_inference.errors.BaseInferenceToolkitError`` answers with its status code; anything else is a 500.

Request: one JPEG or PNG image (``application/x-image``, ``image/jpeg`` or ``image/png``).
Response (``application/json``)::

    {"label": "cat", "probabilities": [... in classes.json order, summing to 1],
     "top_k": [{"label": "cat", "probability": 0.91}, ...], "embedding": [...], "model_version": "<job name>"}

``model_version`` is the training job's name recorded in ``model_config.json``; it is left out when the artifact
records none (trained before it was recorded, or locally without a job name). A batch transform sends each image
as one request, so its ``.out`` files carry the same answer.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import torch
from PIL import Image, UnidentifiedImageError

import vision_model as vm

try:  # present in the SageMaker PyTorch inference containers
    from sagemaker_inference.errors import BaseInferenceToolkitError
except ImportError:  # on this machine: the same shape, so tests see what the container would answer
    class BaseInferenceToolkitError(Exception):  # type: ignore[no-redef]
        def __init__(self, status_code: int, message: str, phrase: str) -> None:
            self.status_code = status_code
            self.message = message
            self.phrase = phrase
            super().__init__(status_code, message, phrase)

JSON = "application/json"
# Accepted request types and the image formats each may carry.
IMAGE_TYPES = {"application/x-image": ("JPEG", "PNG"), "image/jpeg": ("JPEG",), "image/png": ("PNG",)}


class RequestError(BaseInferenceToolkitError):
    """A request the model cannot answer: the client gets ``status_code`` and the one-line reason."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(status_code, message, message)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.message}"


@dataclass
class ServedModel:
    """What ``model_fn`` loads: the network in eval mode and what is needed to answer with it."""

    net: vm.VisionNet
    classes: List[str]
    config: Dict[str, Any]
    transform: Any
    device: torch.device
    model_version: Optional[str] = None


def model_fn(model_dir: str) -> ServedModel:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net, classes, config = vm.load_model_dir(model_dir, device)
    norm = config["normalization"]
    transform = vm.eval_transform(int(config["image_size"]), norm["mean"], norm["std"])
    return ServedModel(net, classes, config, transform, device, vm.model_version(config))


def media_type(header: Optional[str]) -> str:
    """``image/jpeg; q=1`` -> ``image/jpeg``."""
    return (header or "").split(";", 1)[0].strip().lower()


def input_fn(request_body: Any, request_content_type: Optional[str]) -> Image.Image:
    """Decodes the whole image to RGB (so truncated files fail here, with a 400, not later)."""
    content_type = media_type(request_content_type)
    if content_type not in IMAGE_TYPES:
        raise RequestError(415, f"content type {request_content_type!r} is not supported; send one image as "
                                f"{', '.join(IMAGE_TYPES)}")
    if isinstance(request_body, str):
        raise RequestError(400, f"the body of a {content_type} request must be the image bytes, not text")
    body = bytes(request_body or b"")
    if not body:
        raise RequestError(400, "the request body is empty; send the JPEG or PNG bytes")
    allowed = IMAGE_TYPES[content_type]
    try:
        with Image.open(io.BytesIO(body), formats=list(allowed)) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise RequestError(400, f"the body is not a decodable {' or '.join(allowed)} image "
                                f"({len(body)} bytes; {detail[:120]})") from None


def predict_fn(image: Image.Image, model: ServedModel) -> Dict[str, Any]:
    """Probabilities (softmax in float64, so they sum to 1) and the embedding, for one image."""
    batch = model.transform(image).unsqueeze(0).to(model.device)
    model.net.eval()
    with torch.no_grad():
        logits, embedding = model.net(batch)
    probabilities = torch.softmax(logits[0].double(), dim=0).cpu()
    k = min(int(model.config.get("top_k", 5)), len(model.classes))
    top = torch.topk(probabilities, k)
    answer: Dict[str, Any] = {
        "label": model.classes[int(top.indices[0])],
        "probabilities": probabilities.tolist(),
        "top_k": [{"label": model.classes[int(i)], "probability": float(p)} for p, i in zip(top.values, top.indices)],
        "embedding": embedding[0].float().cpu().tolist(),
    }
    if model.model_version:
        answer["model_version"] = model.model_version
    return answer


def accepts_json(accept: Optional[str]) -> bool:
    types = [media_type(t) for t in (accept or "").split(",")]
    return not accept or any(t in (JSON, "application/*", "*/*", "") for t in types)


def output_fn(prediction: Dict[str, Any], accept: Optional[str]) -> Tuple[str, str]:
    """``(body, content type)``: the toolkit sends the second element as the response's Content-Type."""
    if not accepts_json(accept):
        raise RequestError(406, f"accept {accept!r} is not supported; this model answers {JSON}")
    return json.dumps(prediction), JSON
