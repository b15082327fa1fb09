"""Loads the vision modules by path under unique names.

``train.py`` and ``inference.py`` are common names (models/recommender has its own), and models/pytest.ini uses
``--import-mode=importlib``, so nothing is put on ``sys.path``: modules are loaded from their files into
``sys.modules`` and tests import them as ``vision_train``, ``vision_inference``, ``vision_synthetic`` and
``vision_support``. The ``vision_*`` modules keep their names because train.py and inference.py import them by
those names.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType
from typing import Dict

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))


def _load(name: str, path: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


support = _load("vision_support", os.path.join(TESTS, "vision_support.py"))
VISION = support.VISION
for _name in ("vision_model", "vision_data", "vision_job", "vision_init", "vision_loop"):  # import order
    _load(_name, os.path.join(VISION, f"{_name}.py"))
vision_train = _load("vision_train", os.path.join(VISION, "train.py"))
_load("vision_inference", os.path.join(VISION, "inference.py"))
vision_synthetic = _load("vision_synthetic", os.path.join(TESTS, "vision_synthetic.py"))


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Dict[str, object]:
    """One model trained on three colour classes, shared by the layout and serving tests."""
    root = str(tmp_path_factory.mktemp("vision-trained"))
    env = dict(vision_synthetic.make_channels(root, ["red", "green", "blue"], 8, 4, seed=1),
               TRAINING_JOB_NAME=support.JOB_NAME)
    config = vision_train.main(support.FAST_ARGS, env)
    return {"env": env, "config": config, "model_dir": env["SM_MODEL_DIR"], "root": root}
