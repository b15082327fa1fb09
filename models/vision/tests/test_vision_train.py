"""train.py: hyperparameters, the model directory, learning, fine-tuning from a champion, errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile

import pytest
import torch
import torchvision
import vision_data as data
import vision_init as init
import vision_job as job
import vision_loop as loop
import vision_model as vm
import vision_train as train
from vision_support import FAST_ARGS, JOB_NAME, VISION
from vision_synthetic import make_channels, write_jsonl


def args_with(**overrides):
    """FAST_ARGS with some values replaced."""
    argv = list(FAST_ARGS)
    for name, value in overrides.items():
        flag = f"--{name}"
        if flag in argv:
            argv[argv.index(flag) + 1] = str(value)
        else:
            argv += [flag, str(value)]
    return argv


@pytest.mark.parametrize("argv, message", [
    (["--backbone", "vgg16"], "argument --backbone: invalid choice: 'vgg16'"),
    (["--epochs", "0"], "epochs must be an integer from 1 to 1000; received 0"),
    (["--batch_size", "1"], "batch_size must be an integer from 2 to 4096"),
    (["--lr", "abc"], "argument --lr: invalid float value: 'abc'"),
    (["--pretrained", "imagenet"], "argument --pretrained: invalid choice: 'imagenet'"),
    (["--image_size", "16"], "image_size must be an integer from 32 to 1024; received 16"),
    (["--learning_rate", "0.1"], "unrecognized arguments: --learning_rate 0.1"),
])
def test_bad_hyperparameters_are_one_clear_line(argv, message):
    with pytest.raises(job.TrainingError) as error:
        train.parse_args(argv)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_hyperparameters_arrive_as_sagemaker_passes_them():
    args = train.parse_args(["--amp", "False", "--pretrained", "TorchVision", "--epochs", "3", "--local-rank", "1"])
    assert (args.amp, args.pretrained, args.epochs, args.backbone) == ("false", "torchvision", 3, "resnet50")


def test_amp_true_needs_cuda():
    with pytest.raises(job.TrainingError, match="amp=true needs a CUDA device"):
        job.use_amp("true", torch.device("cpu"))
    assert job.use_amp("auto", torch.device("cpu")) is False


def test_model_directory_layout(trained):
    model_dir, config = trained["model_dir"], trained["config"]
    assert sorted(os.listdir(model_dir)) == ["classes.json", "code", "model.pth", "model_config.json"]
    assert sorted(os.listdir(os.path.join(model_dir, "code"))) == ["inference.py", "vision_model.py"]
    assert json.load(open(os.path.join(model_dir, "classes.json"))) == ["blue", "green", "red"]
    on_disk = json.load(open(os.path.join(model_dir, "model_config.json")))
    assert on_disk == json.loads(json.dumps(config))
    assert (on_disk["backbone"], on_disk["image_size"], on_disk["num_classes"], on_disk["top_k"]) == \
        ("mobilenet_v3_small", 32, 3, 2)
    assert on_disk["embedding_dim"] == 16 and on_disk["feature_dim"] == 1024
    assert on_disk["projection"]["output_dim"] == 16 and on_disk["projection"]["input_dim"] == 1024
    assert on_disk["normalization"] == {"mean": list(vm.IMAGENET_MEAN), "std": list(vm.IMAGENET_STD)}
    assert on_disk["torch_version"] == torch.__version__
    assert on_disk["torchvision_version"] == torchvision.__version__
    assert [e["epoch"] for e in on_disk["metrics"]["epochs"]] == [1, 2]
    best = on_disk["metrics"]["epochs"][on_disk["metrics"]["best_epoch"] - 1]
    assert best["val_loss"] == min(e["val_loss"] for e in on_disk["metrics"]["epochs"])
    assert on_disk["data"]["train_per_class"] == {"blue": 8, "green": 8, "red": 8}
    assert on_disk["data"]["train_per_source"] == {"synthetic": 24}
    state = torch.load(os.path.join(model_dir, "model.pth"))
    assert state["head.weight"].shape == (3, 1024) and state["projection"].shape == (1024, 16)


def test_the_model_version_is_the_training_job_name(trained):
    on_disk = json.load(open(os.path.join(trained["model_dir"], "model_config.json")))
    assert on_disk["model_version"] == on_disk["training_job_name"] == JOB_NAME
    assert vm.model_version(on_disk) == JOB_NAME


@pytest.mark.parametrize("override, env, expected", [
    ("", {"TRAINING_JOB_NAME": "job-a"}, "job-a"),
    ("", {"SM_TRAINING_ENV": json.dumps({"job_name": "job-b", "hosts": ["algo-1"]})}, "job-b"),
    ("", {"TRAINING_JOB_NAME": "job-a", "SM_TRAINING_ENV": json.dumps({"job_name": "job-b"})}, "job-a"),
    ("v7", {"TRAINING_JOB_NAME": "job-a"}, "v7"),
    ("v7", {}, "v7"),
    ("", {}, None),
    ("", {"SM_TRAINING_ENV": "not json"}, None),
    ("", {"SM_TRAINING_ENV": json.dumps({"job_name": ""})}, None),
])
def test_model_version_resolution(override, env, expected):
    assert job.resolve_model_version(override, env) == expected


def test_a_local_run_without_a_job_name_records_no_version_and_an_override_wins(trained, tmp_path):
    env = {k: v for k, v in trained["env"].items() if k != "TRAINING_JOB_NAME"}
    local = train.main(FAST_ARGS + ["--epochs", "1"], dict(env, SM_MODEL_DIR=str(tmp_path / "local")))
    assert local["model_version"] is None and local["training_job_name"] is None
    overridden = train.main(FAST_ARGS + ["--epochs", "1", "--model_version", "v7"],
                            dict(trained["env"], SM_MODEL_DIR=str(tmp_path / "override")))
    assert (overridden["model_version"], overridden["training_job_name"]) == ("v7", JOB_NAME)
    assert vm.model_version({}) is None


def test_same_seed_same_weights(trained, tmp_path):
    env = dict(trained["env"], SM_MODEL_DIR=str(tmp_path / "again"))
    train.main(FAST_ARGS, env)
    first = torch.load(os.path.join(trained["model_dir"], "model.pth"))
    second = torch.load(str(tmp_path / "again" / "model.pth"))
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_learns_an_easy_two_colour_task(tmp_path):
    env = make_channels(str(tmp_path), ["red", "blue"], 32, 16, seed=3, size=32)
    config = train.main(args_with(epochs=4, batch_size=16, patience=0, seed=5), env)
    accuracies = [e["val_accuracy"] for e in config["metrics"]["epochs"]]
    # 32 validation images, chance is 0.5; measured 0.97 with this seed.
    assert config["metrics"]["best_val_accuracy"] >= 0.8, accuracies


def test_early_stopping_stops_after_patience_epochs_without_improvement(tmp_path):
    env = make_channels(str(tmp_path), ["red", "blue"], 4, 2, seed=4, size=32)
    config = train.main(args_with(epochs=20, patience=1, lr=0.05), env)
    epochs = config["metrics"]["epochs"]
    assert len(epochs) < 20
    assert len(epochs) == config["metrics"]["best_epoch"] + 1


def test_a_new_class_keeps_old_indices_and_old_head_rows(trained, tmp_path):
    """The second run fine-tunes from the champion's model.tar.gz, as a SageMaker channel would deliver it."""
    champion_dir = tmp_path / "champion"
    champion_dir.mkdir()
    with tarfile.open(str(champion_dir / "model.tar.gz"), "w:gz") as tar:
        for name in os.listdir(trained["model_dir"]):
            tar.add(os.path.join(trained["model_dir"], name), arcname=name)
    old_classes = json.load(open(os.path.join(trained["model_dir"], "classes.json")))
    env = make_channels(str(tmp_path), ["red", "green", "blue", "yellow"], 4, 2, seed=9, classes=old_classes)
    env["SM_CHANNEL_CHAMPION"] = str(champion_dir)
    # A tiny learning rate, so after one epoch the carried rows are still visibly the champion's.
    config = train.main(args_with(epochs=1, lr=1e-6, weight_decay=0), env)
    classes = json.load(open(os.path.join(env["SM_MODEL_DIR"], "classes.json")))
    assert classes == ["blue", "green", "red", "yellow"] and classes[:3] == old_classes
    assert config["new_classes"] == ["yellow"] and config["champion_classes"] == 3
    assert config["initialized_from"].startswith("champion")
    old = torch.load(os.path.join(trained["model_dir"], "model.pth"))
    new = torch.load(os.path.join(env["SM_MODEL_DIR"], "model.pth"))
    assert new["head.weight"].shape == (4, 1024)
    assert torch.allclose(new["head.weight"][:3], old["head.weight"], atol=1e-4)
    assert torch.allclose(new["head.bias"][:3], old["head.bias"], atol=1e-4)
    assert not torch.allclose(new["head.weight"][3], old["head.weight"][0], atol=1e-2)
    assert torch.equal(new["projection"], old["projection"])


def test_grow_head_copies_rows_into_a_larger_head():
    head = torch.nn.Linear(4, 3)
    weight, bias = torch.arange(8.0).reshape(2, 4), torch.tensor([5.0, 6.0])
    fresh = head.weight[2].clone()
    init.grow_head(head, weight, bias)
    assert torch.equal(head.weight[:2], weight) and torch.equal(head.bias[:2], bias)
    assert torch.equal(head.weight[2], fresh)
    with pytest.raises(job.TrainingError, match="cannot fit it into 3 classes x 5 features"):
        init.grow_head(torch.nn.Linear(5, 3), weight, bias)


def test_a_champion_archive_cannot_write_outside_its_folder(tmp_path):
    (tmp_path / "evil.txt").write_text("x")
    with tarfile.open(str(tmp_path / "model.tar.gz"), "w:gz") as tar:
        tar.add(str(tmp_path / "evil.txt"), arcname="../evil.txt")
    with pytest.raises(job.TrainingError, match="champion model.tar.gz has an unsafe member '../evil.txt'"):
        init.load_champion(str(tmp_path), "resnet18")
    with pytest.raises(job.TrainingError, match="has neither model.pth nor model.tar.gz"):
        init.load_champion(str(tmp_path / "nowhere"), "resnet18")


def test_champion_with_another_backbone_is_refused(trained, tmp_path):
    env = dict(trained["env"], SM_CHANNEL_CHAMPION=trained["model_dir"], SM_MODEL_DIR=str(tmp_path / "m"))
    with pytest.raises(job.TrainingError, match="the champion's backbone is mobilenet_v3_small, not resnet18"):
        train.main(args_with(backbone="resnet18"), env)


def test_pretrained_weights_from_the_channel(trained, tmp_path):
    pretrained = tmp_path / "pretrained"
    pretrained.mkdir()
    torch.manual_seed(0)
    reference = torchvision.models.mobilenet_v3_small()
    torch.save(reference.state_dict(), str(pretrained / "mobilenet_v3_small.pth"))
    env = dict(trained["env"], SM_CHANNEL_PRETRAINED=str(pretrained), SM_MODEL_DIR=str(tmp_path / "m"))
    net, _, origin = init.build_model(train.parse_args(args_with(pretrained="channel")),
                                      job.Channels.from_env(env), None, 3, job.Distributed.from_env({}))
    assert origin == "pretrained channel mobilenet_v3_small.pth"
    assert torch.equal(net.backbone.features[0][0].weight, reference.features[0][0].weight)
    config = train.main(args_with(pretrained="channel", epochs=1), env)
    assert config["initialized_from"] == "pretrained channel mobilenet_v3_small.pth"


def test_pretrained_channel_errors(trained, tmp_path):
    env = dict(trained["env"], SM_MODEL_DIR=str(tmp_path / "m"))
    with pytest.raises(job.TrainingError, match="pretrained=channel needs a pretrained channel"):
        train.main(args_with(pretrained="channel"), env)
    (tmp_path / "p").mkdir()
    torch.save(torchvision.models.resnet18().state_dict(), str(tmp_path / "p" / "resnet18.pth"))
    env["SM_CHANNEL_PRETRAINED"] = str(tmp_path / "p")
    with pytest.raises(job.TrainingError, match="resnet18.pth is not a mobilenet_v3_small state_dict"):
        train.main(args_with(pretrained="channel"), env)


def test_data_errors_name_what_is_wrong(tmp_path):
    env = make_channels(str(tmp_path), ["red", "blue"], 3, 1, seed=6, size=32)
    manifests = env["SM_CHANNEL_MANIFESTS"]
    records = [json.loads(line) for line in open(os.path.join(manifests, "train.jsonl"))]

    write_jsonl(os.path.join(manifests, "train.jsonl"), records + [{"image": "red/lost.png", "label": "red"}])
    with pytest.raises(data.DataError, match="image 'red/lost.png' listed in train.jsonl is missing"):
        train.main(FAST_ARGS, env)

    with open(os.path.join(env["SM_CHANNEL_IMAGES"], "red", "broken.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n truncated")
    write_jsonl(os.path.join(manifests, "train.jsonl"), records + [{"image": "red/broken.png", "label": "red"}])
    with pytest.raises(data.ImageReadError, match="image 'red/broken.png' is unreadable"):
        train.main(FAST_ARGS, env)

    os.remove(os.path.join(manifests, "validation.jsonl"))
    with pytest.raises(data.DataError, match="manifest validation.jsonl not found"):
        train.main(FAST_ARGS, env)
    assert not os.path.exists(env["SM_MODEL_DIR"])


def test_an_unreadable_image_read_by_a_loader_worker_is_still_one_line(tmp_path):
    env = make_channels(str(tmp_path), ["red", "blue"], 3, 1, seed=6, size=32)
    with open(os.path.join(env["SM_CHANNEL_IMAGES"], "red", "broken.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n truncated")
    with open(os.path.join(env["SM_CHANNEL_MANIFESTS"], "train.jsonl"), "a") as f:
        f.write(json.dumps({"image": "red/broken.png", "label": "red"}) + "\n")
    with pytest.raises(data.ImageReadError) as error:
        train.main(args_with(num_workers=1), env)
    assert "Original Traceback" in str(error.value)  # the worker's error, re-raised by the DataLoader
    line = train.one_line(error.value)
    assert line.startswith("image 'red/broken.png' is unreadable (") and line.endswith("must be JPEG or PNG")


def test_diverged_training_is_an_error(tmp_path, monkeypatch):
    env = make_channels(str(tmp_path), ["red", "blue"], 2, 1, seed=6, size=32)
    monkeypatch.setattr(loop, "evaluate", lambda *a: (float("nan"), 0.0))
    with pytest.raises(job.TrainingError, match="validation loss was not finite in any of 2 epochs"):
        train.main(FAST_ARGS, env)


def test_command_line_prints_one_error_line_and_fails(tmp_path):
    env = make_channels(str(tmp_path), ["red", "blue"], 2, 1, seed=8, size=32)
    os.remove(os.path.join(env["SM_CHANNEL_MANIFESTS"], "train.jsonl"))
    run = subprocess.run([sys.executable, os.path.join(VISION, "train.py"), *FAST_ARGS],
                         env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"error: manifest train.jsonl not found in the manifests channel ({env['SM_CHANNEL_MANIFESTS']}); "
        "expected train.jsonl and validation.jsonl"]


def test_torchvision_weights_are_requested_and_a_failed_download_is_one_line(monkeypatch):
    from urllib.error import URLError
    calls = []

    def offline(name, weights=None):
        calls.append((name, weights))
        raise URLError("Name or service not known")

    monkeypatch.setattr(vm, "torchvision_backbone", offline)
    with pytest.raises(job.TrainingError, match="pretrained=torchvision could not download the resnet18 weights"):
        init.torchvision_download("resnet18", job.Distributed.from_env({}))
    assert calls == [("resnet18", "DEFAULT")]
