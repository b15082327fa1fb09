"""Manifests, the class map that never moves, and image checks (no training)."""
from __future__ import annotations

import os

import pytest
import vision_data as data
from vision_synthetic import make_images, write_jsonl


def examples(*labels: str):
    return [data.Example(f"{label}/{i}.png", label) for i, label in enumerate(labels)]


def test_merge_keeps_carried_order_and_appends_new_labels_sorted():
    assert data.merge_classes(["zebra", "ant"], ["cat", "ant", "bee", "zebra"]) == ["zebra", "ant", "bee", "cat"]


def test_first_model_sorts_its_classes():
    assert data.resolve_classes(None, None, examples("b", "a", "c"), examples("a")) == ["a", "b", "c"]


def test_manifest_classes_must_extend_the_champions():
    with pytest.raises(data.DataError, match="must start with the champion's classes"):
        data.resolve_classes(["b", "a"], ["a", "b"], examples("a", "b"), [])


def test_champion_classes_are_carried_when_the_manifests_have_none():
    assert data.resolve_classes(None, ["zz", "aa"], examples("aa", "zz", "mm"), []) == ["zz", "aa", "mm"]


def test_a_class_without_training_images_is_an_error():
    with pytest.raises(data.DataError, match="class 'gone' has no training images"):
        data.resolve_classes(["a", "gone"], None, examples("a"), [])
    with pytest.raises(data.DataError, match="class 'c' has no training images"):
        data.resolve_classes(None, None, examples("a"), examples("c"))


@pytest.mark.parametrize("line, message", [
    ("{not json", "train.jsonl line 3: not valid JSON"),
    ('["a"]', "must be a JSON object"),
    ('{"image": "a.png"}', '"label" must be a non-empty class name'),
    ('{"image": "a.png", "label": "  "}', '"label" must be a non-empty class name'),
    ('{"label": "a"}', '"image" must be a non-empty string key'),
    ('{"image": "/etc/passwd", "label": "a"}', "must be relative to the images channel"),
    ('{"image": "x/../../secret.png", "label": "a"}', "must be relative to the images channel"),
])
def test_bad_manifest_lines_name_the_line_and_the_rule(line, message):
    with pytest.raises(data.DataError, match=message.replace("(", r"\(").replace("[", r"\[")):
        data.parse_line(line, "train.jsonl line 3")


def test_extra_fields_are_allowed():
    assert data.parse_line('{"image": "a/b.png", "label": "a", "source": "human", "x": 1}', "l") == \
        data.Example("a/b.png", "a", "human")


def test_missing_and_empty_manifests(tmp_path):
    with pytest.raises(data.DataError, match="manifest validation.jsonl not found in the manifests channel"):
        data.read_manifest(str(tmp_path), "validation.jsonl")
    (tmp_path / "train.jsonl").write_text("\n\n")
    with pytest.raises(data.DataError, match="manifest train.jsonl has no examples"):
        data.read_manifest(str(tmp_path), "train.jsonl")


def test_class_list_file_rules(tmp_path):
    path = tmp_path / "classes.json"
    assert data.read_class_list(str(path), "classes.json") is None
    path.write_text('["a", "b", "a"]')
    with pytest.raises(data.DataError, match="lists classes more than once: a"):
        data.read_class_list(str(path), "classes.json")
    path.write_text('{"a": 0}')
    with pytest.raises(data.DataError, match="must be a JSON array of non-empty class names"):
        data.read_class_list(str(path), "classes.json")


def test_train_and_validation_must_not_share_images():
    data.check_disjoint(examples("a", "b"), [data.Example("a/9.png", "a")])
    with pytest.raises(data.DataError, match="image 'b/1.png' is in both train.jsonl and validation.jsonl"):
        data.check_disjoint(examples("a", "b"), [data.Example("b/1.png", "b")])


def test_a_missing_image_is_named(tmp_path):
    records = make_images(str(tmp_path), ["red"], 3, seed=1, size=8)
    listed = [data.Example(r["image"], r["label"]) for r in records] + [data.Example("red/gone.png", "red")]
    data.check_images_exist(str(tmp_path), listed[:3], "train.jsonl")
    with pytest.raises(data.DataError, match="image 'red/gone.png' listed in train.jsonl is missing"):
        data.check_images_exist(str(tmp_path), listed, "train.jsonl")


def test_an_unreadable_image_is_named(tmp_path):
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(data.ImageReadError, match="image 'bad.jpg' is unreadable"):
        data.open_rgb(str(tmp_path / "bad.jpg"), "bad.jpg")


def test_dataset_reads_lazily_by_key_and_converts_to_rgb(tmp_path):
    records = make_images(str(tmp_path), ["red", "blue"], 2, seed=2, size=12)
    write_jsonl(str(tmp_path / "m" / "train.jsonl"), records)
    train = data.read_manifest(str(tmp_path / "m"), "train.jsonl")
    dataset = data.ManifestDataset(str(tmp_path), train, {"blue": 0, "red": 1}, lambda image: image)
    os.remove(os.path.join(str(tmp_path), records[3]["image"]))  # opened only when asked for
    image, target = dataset[0]
    assert (image.mode, image.size, target) == ("RGB", (12, 12), 1)
    with pytest.raises(data.ImageReadError, match="blue/"):
        dataset[3]
