"""Paths and the small, fast training arguments the vision tests share (loaded by conftest.py by path)."""
from __future__ import annotations

import os

TESTS = os.path.dirname(os.path.abspath(__file__))
VISION = os.path.dirname(TESTS)

# Small and fast: a MobileNetV3-small at 32 px, two epochs, a 16-dimensional projected embedding.
FAST_ARGS = ["--backbone", "mobilenet_v3_small", "--image_size", "32", "--epochs", "2", "--batch_size", "8",
             "--lr", "0.003", "--num_workers", "0", "--embedding_dim", "16", "--top_k", "2", "--seed", "7"]

# The training job's name SageMaker sets in the container; the trained fixture runs as this job.
JOB_NAME = "vision-train-2026-01-01-00-00-00-000"
