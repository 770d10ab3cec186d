"""seiswork.transforms: FFTTransform, ToTensor, the seed's pipelines, seeding and JSON round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from seiswork import functional as F
from seiswork.augment import AddNoise, AmplitudeScale, Compose, RandomApply, TimeShift, TimeStretch
from seiswork.transforms import (
    FFTTransform,
    Pipeline,
    ToTensor,
    default_pipelines,
    load_pipeline,
    pipeline_from_dict,
    pipeline_to_dict,
    save_pipeline,
    seed_pipeline,
)


def train_transform(seed=None) -> nn.Sequential:
    """The seed's train pipeline, verbatim (plus a seed)."""
    return nn.Sequential(
        Compose(
            [
                RandomApply(TimeShift(max_shift=0.1), p=0.5),
                RandomApply(AddNoise(snr_min=15, snr_max=40), p=0.5),
                RandomApply(AmplitudeScale(0.9, 1.1), p=0.3),
                RandomApply(TimeStretch(0.95, 1.05), p=0.3),
            ],
            seed=seed,
        ),
        FFTTransform(fft_size=512),
        ToTensor(),
    )


@pytest.fixture
def batch() -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(0).standard_normal((8, 1700, 3)).astype(np.float32))


# ---------------------------------------------------------------------------------------------- seed pipelines
def test_seed_train_and_test_pipelines(batch):
    train = train_transform(seed=0)
    test = nn.Sequential(FFTTransform(fft_size=512), ToTensor())
    for pipe in (train, test):
        out = pipe(batch)
        assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and out.shape == (8, 257, 3)
        one = pipe(batch[0].numpy())  # one numpy event, as a Dataset hands it over
        assert isinstance(one, torch.Tensor) and one.dtype == torch.float32 and one.shape == (257, 3)


def test_train_pipeline_in_eval_equals_test_pipeline(batch):
    train = train_transform(seed=0).eval()
    test = nn.Sequential(FFTTransform(fft_size=512), ToTensor())
    torch.testing.assert_close(train(batch), test(batch), rtol=0, atol=0)


# ---------------------------------------------------------------------------------------------- FFTTransform
def test_fft_transform_bins_and_dc():
    n = 512
    k = 37
    t = np.arange(1700)
    x = np.stack([np.sin(2 * np.pi * k * t / n), np.cos(2 * np.pi * k * t / n), np.full(1700, 2.0)], axis=1)
    spec = FFTTransform(n)(x.astype(np.float32))
    assert isinstance(spec, np.ndarray) and spec.shape == (257, 3) and spec.dtype == np.float32
    assert list(np.argmax(spec, axis=0)) == [k, k, 0]


def test_fft_transform_modes_and_log(batch):
    for mode in ("welch", "first"):
        for log in (False, True):
            expected = F.spectrum(batch, 256, mode=mode, log=log)
            torch.testing.assert_close(FFTTransform(256, mode=mode, log=log)(batch), expected, rtol=0, atol=0)


def test_fft_transform_unaffected_by_eval(batch):
    fft = FFTTransform(512)
    a = fft(batch)
    torch.testing.assert_close(fft.eval()(batch), a, rtol=0, atol=0)


def test_fft_transform_short_event_error():
    with pytest.raises(ValueError, match=r"FFTTransform\(fft_size=512\): events have 300 samples.*fft_size"):
        FFTTransform(512)(np.zeros((300, 3), np.float32))
    with pytest.raises(ValueError, match="events have 300 samples"):
        FFTTransform(512)(torch.zeros(4, 300, 3))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fft_size": 511}, "fft_size must be a positive even integer, got 511"),
        ({"fft_size": 0}, "fft_size must be a positive even integer"),
        ({"fft_size": 512.0}, "fft_size must be a positive even integer"),
        ({"mode": "mean"}, "mode must be one of"),
        ({"window": "hamming"}, "window must be one of"),
    ],
)
def test_fft_transform_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FFTTransform(**kwargs)


def test_fft_transform_repr():
    assert repr(FFTTransform()) == "FFTTransform(fft_size=512, mode='welch', log=False, window='hann')"


# ---------------------------------------------------------------------------------------------- ToTensor
def test_to_tensor():
    arr = np.arange(12, dtype=np.float64).reshape(4, 3)
    out = ToTensor()(arr)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), arr)
    t = torch.ones(2, 3, dtype=torch.float32)
    assert ToTensor()(t) is t
    assert ToTensor()(torch.ones(2, 3, dtype=torch.int64)).dtype == torch.float32
    ro = np.ones((3, 2), np.float32)
    ro.flags.writeable = False
    assert ToTensor()(ro).shape == (3, 2)
    with pytest.raises(TypeError, match="real numbers"):
        ToTensor()(np.array(["a"]))


# ---------------------------------------------------------------------------------------------- seeding
def test_seed_pipeline_equals_compose_reseed(batch):
    a, b = train_transform(seed=0), train_transform(seed=None)
    a[0].reseed(5)
    seed_pipeline(b, 5)
    torch.testing.assert_close(a(batch), b(batch), rtol=0, atol=0)
    assert b[0].seed == 5


def test_seed_pipeline_gives_siblings_distinct_streams(batch):
    seq = nn.Sequential(AmplitudeScale(0.5, 2.0), AmplitudeScale(0.5, 2.0))
    seed_pipeline(seq, 1)
    seq(batch)
    assert not torch.equal(seq[0].last_params["scale"], seq[1].last_params["scale"])
    first = seq[0].last_params["scale"].clone()
    seed_pipeline(seq, 1)
    seq(batch)
    assert torch.equal(seq[0].last_params["scale"], first)


def test_seed_pipeline_leaves_non_modules_alone():
    seed_pipeline(None, 0)
    seed_pipeline(lambda x: x, 0)
    seed_pipeline(nn.Sequential(FFTTransform(), ToTensor()), 0)
    with pytest.raises(ValueError, match="seed"):
        seed_pipeline(nn.Sequential(), -1)


def test_make_loader_workers_get_distinct_reproducible_streams():
    from seiswork.data import dataset

    x = np.ones((8, 20, 1), np.float32)
    y = np.zeros(8, np.int64)
    transform = Compose([AmplitudeScale(0.5, 2.0)], seed=0)

    def run():
        ds = dataset.WaveformDataset(x, y, transform=transform)
        loader = dataset.make_loader(ds, batch_size=1, seed=3, num_workers=2)
        return [float(xb[0, 0, 0]) for xb, _ in loader]

    values = run()
    # batch i comes from worker i % 2: identical streams would repeat pairs
    assert values[0::2] != values[1::2]
    assert len(set(values)) == len(values)
    assert run() == values


# ---------------------------------------------------------------------------------------------- JSON
def test_json_round_trip_is_identical(tmp_path, batch):
    pipe = train_transform(seed=7)
    path = save_pipeline(pipe, tmp_path / "sub" / "pipeline.json")
    doc = json.loads(path.read_text())
    assert doc["format"] == "seiswork.pipeline" and doc["version"] == 1
    assert doc["pipeline"]["modules"][0]["seed"] == 7
    assert doc["pipeline"]["modules"][0]["transforms"][0] == {
        "type": "RandomApply", "p": 0.5, "transform": {"type": "TimeShift", "max_shift": 0.1}}
    loaded = load_pipeline(path)
    assert isinstance(loaded, Pipeline)  # an nn.Sequential with the fused CPU pass
    assert repr(loaded) == repr(pipe).replace("Sequential(", "Pipeline(", 1)
    torch.testing.assert_close(loaded(batch), train_transform(seed=7)(batch), rtol=0, atol=0)
    assert [p.name for p in tmp_path.joinpath("sub").iterdir()] == ["pipeline.json"]  # no temp files left


def test_dict_round_trip_of_every_module():
    modules = [
        TimeShift(0.2, seed=1),
        AddNoise(10, 20),
        AmplitudeScale(0.5, 1.5, seed=2),
        TimeStretch(0.9, 1.1, seed=3, pad_mode="zeros"),
        RandomApply(Compose([TimeShift(0.05), RandomApply(AddNoise(), p=0.2)]), p=0.7, seed=4),
        FFTTransform(256, mode="first", log=True, window="boxcar"),
        ToTensor(),
        Pipeline(nn.Identity(), FFTTransform()),  # an nn.Sequential comes back as a Pipeline
    ]
    for m in modules:
        d = pipeline_to_dict(m)
        json.dumps(d)  # JSON-ready
        rebuilt = pipeline_from_dict(d)
        assert repr(rebuilt) == repr(m)
        assert pipeline_to_dict(rebuilt) == d


def test_json_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_pipeline(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_pipeline(bad)
    with pytest.raises(ValueError, match="unknown module type 'Blur'"):
        pipeline_from_dict({"type": "Blur"})
    with pytest.raises(ValueError, match=r"pipeline.modules\[0\]: bad settings for TimeShift"):
        pipeline_from_dict({"type": "Sequential", "modules": [{"type": "TimeShift", "shift": 3}]})
    with pytest.raises(ValueError, match="max_shift must be in"):
        pipeline_from_dict({"type": "TimeShift", "max_shift": 2})
    with pytest.raises(ValueError, match="unsupported pipeline document"):
        pipeline_from_dict({"format": "other", "version": 1, "pipeline": {"type": "ToTensor"}})
    with pytest.raises(TypeError, match="cannot serialise Linear"):
        pipeline_to_dict(nn.Sequential(nn.Linear(2, 2)))


def test_save_pipeline_overwrite_guard(tmp_path):
    path = save_pipeline(ToTensor(), tmp_path / "p.json")
    with pytest.raises(FileExistsError):
        save_pipeline(ToTensor(), path, overwrite=False)


# ---------------------------------------------------------------------------------------------- Pipeline
class Doubling(AmplitudeScale):
    """A user's subclass: no kernel, so a Pipeline runs it module by module."""


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("mode, log", [("welch", False), ("first", False), ("welch", True)])
def test_pipeline_equals_sequential_exactly(p, mode, log):
    def modules():
        return [
            Compose([RandomApply(TimeShift(0.1), p=p), RandomApply(AddNoise(15, 40), p=p),
                     RandomApply(AmplitudeScale(0.9, 1.1), p=p), RandomApply(TimeStretch(0.95, 1.05), p=p)], seed=5),
            FFTTransform(fft_size=256, mode=mode, log=log),
            ToTensor(),
        ]

    x = torch.from_numpy(np.random.default_rng(1).standard_normal((70, 900, 3)).astype(np.float32))
    fused, plain = Pipeline(*modules()), nn.Sequential(*modules())
    for _ in range(2):  # the second call checks that both streams moved on alike
        out = fused(x)
        assert torch.equal(out, plain(x))
        assert out.shape == (70, 129, 3) and out.dtype == torch.float32
    for a, b in zip(fused[0].modules(), plain[0].modules()):  # the same draw is kept for inspection
        assert str(getattr(a, "last_params", None)) == str(getattr(b, "last_params", None))


def test_pipeline_falls_back_to_module_by_module():
    x = torch.from_numpy(np.random.default_rng(2).standard_normal((20, 600, 3)).astype(np.float32))

    def pair(aug):
        return (Pipeline(aug(), FFTTransform(fft_size=128)), nn.Sequential(aug(), FFTTransform(fft_size=128)))

    fused, plain = pair(lambda: Compose([Doubling(2.0, 2.0), TimeShift(0.2)], seed=3))
    assert torch.equal(fused(x), plain(x))  # the subclass has no kernel: the same draw, applied in torch
    fused, plain = pair(lambda: Compose([TimeShift(0.2)], seed=3))
    event = x[0].numpy()
    np.testing.assert_array_equal(fused(event), plain(event))  # one numpy event
    assert torch.equal(fused(x.double()), plain(x.double()))  # float64
    fused.eval(), plain.eval()
    assert torch.equal(fused(x), plain(x))  # eval: spectrum only
    assert torch.equal(fused(x), FFTTransform(fft_size=128)(x))


class Silenced(TimeShift):
    """A user's subclass with its own forward: a Pipeline must call it."""

    def forward(self, x):
        return super().forward(x) * 0


def test_pipeline_calls_hooks_and_overridden_forwards():
    x = torch.from_numpy(np.random.default_rng(3).standard_normal((20, 600, 3)).astype(np.float32))
    silenced = Pipeline(Silenced(0.1, seed=0), FFTTransform(fft_size=128))
    assert torch.equal(silenced(x), torch.zeros(20, 65, 3))
    calls = []
    fused = Pipeline(Compose([TimeShift(0.1)], seed=0), FFTTransform(fft_size=128))
    plain = nn.Sequential(Compose([TimeShift(0.1)], seed=0), FFTTransform(fft_size=128))
    fused[0].register_forward_hook(lambda module, inputs, output: calls.append(output.shape))
    assert torch.equal(fused(x), plain(x))
    assert calls == [(20, 600, 3)]  # the augmentation ran through its __call__


def test_pipeline_short_events_get_the_fft_transform_error():
    fused = Pipeline(Compose([TimeShift(0.1)], seed=0), FFTTransform(fft_size=512))
    with pytest.raises(ValueError, match=r"FFTTransform\(fft_size=512\): events have 300 samples"):
        fused(torch.zeros(4, 300, 3))
    with pytest.raises(ValueError, match="Compose: empty event"):
        fused(torch.zeros(4, 0, 3))


def test_default_pipelines_are_pipelines():
    train_t, eval_t = default_pipelines(512, seed=0, representation="spectrum")
    assert isinstance(train_t, Pipeline) and isinstance(eval_t, Pipeline)
    assert isinstance(train_t, nn.Sequential)


def test_default_pipelines_are_the_seed_pipelines():
    train_t, eval_t = default_pipelines(512, seed=7, representation="spectrum")
    literal = train_transform(seed=7)
    assert repr(train_t) == repr(literal).replace("Sequential", "Pipeline", 1)
    x = torch.randn(6, 600, 3)
    for _ in range(2):  # the random streams advance identically
        torch.testing.assert_close(train_t(x), literal(x), rtol=0, atol=0)
    assert repr(eval_t) == repr(nn.Sequential(FFTTransform(512), ToTensor())).replace("Sequential", "Pipeline")
    plain, _ = default_pipelines(64, augment=False, representation="spectrum")
    assert [type(m) for m in plain] == [FFTTransform, ToTensor]
    with pytest.raises(ValueError, match="fft_size must be >= 2"):
        default_pipelines(0, representation="spectrum")
    with pytest.raises(TypeError, match="fft_size must be an int"):
        default_pipelines(64.0, representation="spectrum")


def test_default_pipelines_take_a_saved_augmentation(tmp_path):
    tuned = Compose([RandomApply(TimeShift(0.3), p=1.0)], seed=99)
    path = save_pipeline(tuned, tmp_path / "augmentation.json")
    from_path, eval_t = default_pipelines(fft_size=64, seed=4, augmentation=path, representation="spectrum")
    from_module, _ = default_pipelines(fft_size=64, seed=4, augmentation=Compose([RandomApply(TimeShift(0.3), p=1.0)]),
                                       representation="spectrum")
    tuned.reseed(4)  # the saved pipeline's own seed gives way to the run's
    assert repr(from_path[0]) == repr(tuned) and not any(isinstance(m, AddNoise) for m in from_path.modules())
    x = torch.randn(3, 200, 3)
    torch.testing.assert_close(from_path(x), from_module(x), rtol=0, atol=0)  # both reseeded from seed=4
    assert from_path(x).shape == eval_t(x).shape == (3, 33, 3)
    no_aug, _ = default_pipelines(fft_size=64, augment=False, augmentation=path, representation="spectrum")
    torch.testing.assert_close(no_aug(x), eval_t(x))
