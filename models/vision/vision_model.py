"""The vision network, its evaluation transform and its model-directory format.

Shared by ``train.py`` (which builds and saves it) and ``inference.py`` (which loads it); ``train.py`` copies this
file into ``<model dir>/code/`` next to ``inference.py`` so the served artifact is self-contained.

Runs on PyTorch 1.13 / torchvision 0.14 (Debian, CPU) and on the 2.x releases of the SageMaker PyTorch containers:
only APIs both share are used.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Tuple

import torch
import torchvision
from torch import nn
from torchvision import transforms

BACKBONES = ("resnet50", "mobilenet_v3_small", "resnet18")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Evaluation resizes the short side to image_size / CENTER_CROP_FRACTION, then centre-crops image_size (ImageNet's
# 256 -> 224 convention).
CENTER_CROP_FRACTION = 0.875
MODEL_FILE = "model.pth"
CLASSES_FILE = "classes.json"
CONFIG_FILE = "model_config.json"
FORMAT_VERSION = 1
# model_config.json's field naming the model (the training job's name); absent in artifacts trained before it.
MODEL_VERSION_KEY = "model_version"


class VisionNet(nn.Module):
    """Backbone features -> (optional fixed projection = the embedding) and a linear classifier head.

    The head reads the backbone's penultimate features, so the projection never limits accuracy; the projection
    only fixes the embedding's size. It is a buffer (saved in the state_dict, never trained).
    """

    def __init__(self, backbone: nn.Module, feature_dim: int, num_classes: int,
                 projection: Optional[torch.Tensor] = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.feature_dim = feature_dim
        self.head = nn.Linear(feature_dim, num_classes)
        if projection is not None:
            self.register_buffer("projection", projection)
        else:
            self.projection = None

    def forward(self, images: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(logits, embedding)``."""
        features = self.backbone(images)
        logits = self.head(features)
        embedding = features if self.projection is None else features @ self.projection.to(features.dtype)
        return logits, embedding


def torchvision_backbone(name: str, weights: Optional[str] = None) -> Tuple[nn.Module, int]:
    """A torchvision classifier with its last linear layer replaced by the identity; returns it and its width.

    ``weights`` is None (random initialisation) or a torchvision weights name such as ``"DEFAULT"`` (downloads).
    The penultimate layer is ``fc``'s input for ResNets and the last ``Linear``'s input of MobileNetV3's classifier.
    """
    if name not in BACKBONES:
        raise ValueError(f"backbone must be one of {', '.join(BACKBONES)}; received {name!r}")
    model = getattr(torchvision.models, name)(weights=weights)
    return strip_classifier(model)


def strip_classifier(model: nn.Module) -> Tuple[nn.Module, int]:
    """Replaces a torchvision model's final linear layer by the identity; returns the model and the feature width."""
    if isinstance(getattr(model, "fc", None), nn.Linear):
        width = model.fc.in_features
        model.fc = nn.Identity()
        return model, width
    classifier = getattr(model, "classifier", None)
    if isinstance(classifier, nn.Sequential) and isinstance(classifier[-1], nn.Linear):
        width = classifier[-1].in_features
        classifier[-1] = nn.Identity()
        return model, width
    raise ValueError(f"cannot find the final linear layer of {type(model).__name__}")


def random_projection(input_dim: int, output_dim: int, seed: int) -> torch.Tensor:
    """A Gaussian random projection (Johnson-Lindenstrauss), scaled so squared norms are preserved on average."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(input_dim, output_dim, generator=generator) / float(output_dim) ** 0.5


def build_net(config: Dict[str, Any]) -> VisionNet:
    """An untrained network with the architecture a ``model_config.json`` describes (weights come from model.pth)."""
    backbone, width = torchvision_backbone(config["backbone"])
    if width != config["feature_dim"]:
        raise ValueError(f"model_config.json says feature_dim {config['feature_dim']}; "
                         f"{config['backbone']} has {width}")
    projection = None
    if config.get("projection"):
        projection = torch.zeros(width, int(config["projection"]["output_dim"]))
    return VisionNet(backbone, width, int(config["num_classes"]), projection)


def eval_transform(image_size: int, mean: List[float], std: List[float]) -> transforms.Compose:
    """Resize + centre crop + normalise: what validation and serving apply to a decoded RGB image."""
    return transforms.Compose([
        transforms.Resize(round(image_size / CENTER_CROP_FRACTION)),
        transforms.CenterCrop(image_size),
        transforms.ToTensor(),
        transforms.Normalize(mean, std),
    ])


def load_state_dict(path: str, device: torch.device) -> Dict[str, torch.Tensor]:
    """``torch.load`` of a plain state_dict with ``weights_only`` (1.13+), so no pickled code ever runs."""
    return torch.load(path, map_location=device, weights_only=True)


def read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def model_version(config: Dict[str, Any]) -> Optional[str]:
    """The version a ``model_config.json`` records; None when it has none (older artifacts, local runs)."""
    value = config.get(MODEL_VERSION_KEY)
    return value if isinstance(value, str) and value else None


def load_model_dir(model_dir: str, device: torch.device) -> Tuple[VisionNet, List[str], Dict[str, Any]]:
    """Loads ``model.pth``, ``classes.json`` and ``model_config.json`` from a model directory; eval mode."""
    for name in (MODEL_FILE, CLASSES_FILE, CONFIG_FILE):
        if not os.path.isfile(os.path.join(model_dir, name)):
            raise FileNotFoundError(f"model directory {model_dir} has no {name}")
    config = read_json(os.path.join(model_dir, CONFIG_FILE))
    classes = read_json(os.path.join(model_dir, CLASSES_FILE))
    if len(classes) != config["num_classes"]:
        raise ValueError(f"classes.json has {len(classes)} classes; model_config.json says {config['num_classes']}")
    net = build_net(config)
    net.load_state_dict(load_state_dict(os.path.join(model_dir, MODEL_FILE), device))
    net.to(device).eval()
    return net, classes, config
