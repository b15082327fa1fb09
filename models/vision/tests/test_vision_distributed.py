"""The torch_distributed launcher's environment: two CPU processes (gloo) train one model; only rank 0 writes it."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from vision_support import FAST_ARGS, VISION
from vision_synthetic import make_channels


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_train_one_model_and_rank_zero_writes_it(tmp_path):
    channels = make_channels(str(tmp_path), ["red", "blue"], 6, 3, seed=11, size=32)
    port = str(free_port())
    processes = []
    for rank in (0, 1):
        env = {**os.environ, **channels, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2",
               "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port,
               "SM_MODEL_DIR": str(tmp_path / f"model-{rank}")}
        processes.append(subprocess.Popen([sys.executable, os.path.join(VISION, "train.py"), *FAST_ARGS,
                                           "--batch_size", "4"], env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=180) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert not os.path.exists(tmp_path / "model-1")
    assert outputs[1][0] == ""  # only rank 0 logs
    config = json.load(open(tmp_path / "model-0" / "model_config.json"))
    assert config["training"]["world_size"] == 2
    assert len(config["metrics"]["epochs"]) == 2
    # Validation is sharded without padding: 6 images, so accuracy is a multiple of 1/6.
    for epoch in config["metrics"]["epochs"]:
        assert abs(epoch["val_accuracy"] * 6 - round(epoch["val_accuracy"] * 6)) < 1e-9
    assert "world_size=2" in outputs[0][0]
