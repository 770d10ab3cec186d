"""seiswork.augment: pinned randomness gives exact results; seeds, batches, eval, freeze, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from seiswork import functional as F
from seiswork.augment import AddNoise, AmplitudeScale, Augmentation, Compose, RandomApply, TimeShift, TimeStretch


@pytest.fixture
def batch() -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(0).standard_normal((6, 700, 3)).astype(np.float32))


def seed_compose(seed=0, p=(0.5, 0.5, 0.3, 0.3)) -> Compose:
    return Compose(
        [
            RandomApply(TimeShift(max_shift=0.1), p=p[0]),
            RandomApply(AddNoise(snr_min=15, snr_max=40), p=p[1]),
            RandomApply(AmplitudeScale(0.9, 1.1), p=p[2]),
            RandomApply(TimeStretch(0.95, 1.05), p=p[3]),
        ],
        seed=seed,
    )


# ---------------------------------------------------------------------------------------------- exact, pinned
def test_time_shift_pinned_equals_roll(batch):
    aug = TimeShift(max_shift=0.1, seed=1)
    out = aug(batch)
    shifts = aug.last_params["shift"]
    assert shifts.shape == (6,) and torch.all(shifts.abs() <= 70)
    for i in range(6):
        np.testing.assert_array_equal(out[i].numpy(), np.roll(batch[i].numpy(), int(shifts[i]), axis=0))


def test_amplitude_scale_min_equals_max_multiplies(batch):
    out = RandomApply(AmplitudeScale(2.5, 2.5), p=1.0)(batch)
    np.testing.assert_allclose(out.numpy(), batch.numpy() * 2.5, rtol=1e-6)


def test_time_stretch_pinned(batch):
    out = TimeStretch(1.05, 1.05, seed=0)(batch)
    np.testing.assert_array_equal(out.numpy(), F.time_stretch(batch, 1.05).numpy())


def test_add_noise_measured_snr_matches_drawn_snr():
    x = torch.from_numpy(np.random.default_rng(1).standard_normal((400, 500, 3)).astype(np.float32))
    aug = AddNoise(snr_min=15, snr_max=40, seed=3)
    out = aug(x)
    snr = aug.last_params["snr_db"].numpy()
    assert snr.min() >= 15 and snr.max() <= 40 and snr.std() > 5  # really drawn over the range
    measured = 10 * np.log10(
        (x.double() ** 2).mean(dim=(1, 2)).numpy() / ((out - x).double() ** 2).mean(dim=(1, 2)).numpy()
    )
    assert np.max(np.abs(measured - snr)) < 0.5
    assert aug.last_params["offset"].shape == (400, 3)  # one bank window per event and channel
    assert aug.noise(aug.last_params, 500).shape == x.shape


def test_add_noise_windows_are_unit_gaussian_independent_and_follow_the_seed():
    def noise_of(aug):
        return aug.noise(aug.draw(200, 1700, channels=3), 1700)  # (batch, time, channel) windows of the bank

    aug = AddNoise(seed=7)
    noise = noise_of(aug)
    values = noise.double()
    assert abs(float(values.mean())) < 0.01 and abs(float(values.std()) - 1.0) < 0.01
    # every (event, channel) has its own window: 600 offsets in a 2**20 bank rarely coincide
    heads = noise[:, :2, :].permute(0, 2, 1).reshape(-1, 2)
    assert torch.unique(heads, dim=0).shape[0] >= 597
    corr = np.corrcoef(noise[:, :, 0].T.numpy()[:, :50].T)  # 50 windows against each other
    assert np.max(np.abs(corr - np.eye(50))) < 0.15
    # the bank is drawn from the stream: same seed, same noise; reseed (also through a container) redraws it
    assert torch.equal(noise_of(AddNoise(seed=7)), noise)
    assert not torch.equal(noise_of(AddNoise(seed=8)), noise)
    pipe = Compose([RandomApply(AddNoise(), p=1.0)], seed=1)
    x = torch.zeros(4, 900, 3) + torch.linspace(-1, 1, 900)[None, :, None]
    first = pipe(x)
    pipe.reseed(2)
    other = pipe(x)
    pipe.reseed(1)
    assert torch.equal(pipe(x), first) and not torch.equal(other, first)


def test_random_apply_rate_matches_p():
    n, p = 4000, 0.3
    ra = RandomApply(AmplitudeScale(2.0, 2.0), p=p, seed=5)
    out = ra(torch.ones(n, 4, 1))
    applied = ra.last_params["apply"]
    np.testing.assert_array_equal(out[:, 0, 0].numpy() == 2.0, applied.numpy())
    assert abs(int(applied.sum()) - n * p) < 4 * np.sqrt(n * p * (1 - p))
    assert ra.last_params["params"]["scale"].shape == (int(applied.sum()),)  # drawn for applied events only


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_random_apply_extremes(batch, p):
    out = RandomApply(AmplitudeScale(3.0, 3.0), p=p, seed=0)(batch)
    np.testing.assert_allclose(out.numpy(), batch.numpy() * (3.0 if p else 1.0), rtol=1e-6)


# ---------------------------------------------------------------------------------------------- batch == per event
@pytest.mark.parametrize("p", [(1.0, 1.0, 1.0, 1.0), (0.5, 0.5, 0.3, 0.3)])
def test_batch_equals_per_event_for_the_same_params(batch, p):
    comp = seed_compose(seed=7, p=p)
    params = comp.draw(6, 700, channels=3)
    out = comp.apply_params(batch, params)
    for i in range(6):
        single = comp.apply_params(batch[i], comp.select_params(params, i))
        np.testing.assert_allclose(out[i].numpy(), single.numpy(), rtol=1e-5, atol=1e-5)


def test_every_event_gets_its_own_parameters(batch):
    comp = seed_compose(seed=0, p=(1.0, 1.0, 1.0, 1.0))
    comp(batch)
    shifts = comp.last_params["transforms"][0]["params"]["shift"]
    rates = comp.last_params["transforms"][3]["params"]["rate"]
    assert len(set(shifts.tolist())) > 1 and len(set(rates.tolist())) > 1


# ---------------------------------------------------------------------------------------------- types
def test_numpy_in_numpy_out_equals_torch(batch):
    event = batch[0].numpy().astype(np.float64)
    out_np = seed_compose(seed=11, p=(1, 1, 1, 1))(event)
    out_t = seed_compose(seed=11, p=(1, 1, 1, 1))(torch.from_numpy(event))
    assert isinstance(out_np, np.ndarray) and out_np.dtype == np.float32 and out_np.shape == (700, 3)
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float32
    np.testing.assert_array_equal(out_np, out_t.numpy())


def test_input_is_not_modified(batch):
    before = batch.clone()
    seed_compose(seed=0, p=(1, 1, 1, 1))(batch)
    seed_compose(seed=1)(batch)
    torch.testing.assert_close(batch, before, rtol=0, atol=0)


def test_bad_input_shape():
    with pytest.raises(ValueError, match=r"\(time, channel\)"):
        TimeShift()(np.zeros(100))


# ---------------------------------------------------------------------------------------------- seeds
def test_same_seed_same_output_and_reseed_restarts(batch):
    a, b = seed_compose(seed=3), seed_compose(seed=3)
    first = a(batch)
    torch.testing.assert_close(first, b(batch), rtol=0, atol=0)
    second = a(batch)
    assert not torch.equal(first, second)  # the stream moves on
    a.reseed(3)
    torch.testing.assert_close(a(batch), first, rtol=0, atol=0)
    assert not torch.equal(seed_compose(seed=4)(batch), first)


def test_compose_seed_drives_children_and_child_seed_is_ignored(batch):
    a = Compose([TimeShift(0.1, seed=1), AmplitudeScale(0.5, 2.0, seed=2)], seed=9)
    b = Compose([TimeShift(0.1, seed=100), AmplitudeScale(0.5, 2.0, seed=200)], seed=9)
    torch.testing.assert_close(a(batch), b(batch), rtol=0, atol=0)
    assert a[0].generator is a.generator and a[1].generator is a.generator
    assert not a[0].owns_generator and "seed" not in repr(a[0])
    with pytest.raises(RuntimeError, match="reseed"):
        a[0].reseed(1)


def test_single_augmentation_seed(batch):
    assert torch.equal(TimeShift(0.1, seed=2)(batch), TimeShift(0.1, seed=2)(batch))
    assert TimeShift(0.1, seed=2).reseed(5).seed == 5


def test_unseeded_modules_differ(batch):
    # seed=None draws from OS entropy: two fresh modules practically never agree on 6 shifts in [-70, 70]
    assert not torch.equal(TimeShift(0.1)(batch), TimeShift(0.1)(batch))


def test_no_global_rng_is_used(batch):
    torch.manual_seed(0)
    np.random.seed(0)
    state_t, state_np = torch.get_rng_state(), np.random.get_state()[1].copy()
    seed_compose(seed=0, p=(1, 1, 1, 1))(batch)
    assert torch.equal(torch.get_rng_state(), state_t)
    np.testing.assert_array_equal(np.random.get_state()[1], state_np)


# ---------------------------------------------------------------------------------------------- draw / apply / freeze
def test_draw_then_apply_is_deterministic(batch):
    comp = seed_compose(seed=0, p=(1, 1, 1, 1))
    params = comp.draw(6, 700)
    assert comp.last_params is params
    torch.testing.assert_close(comp.apply_params(batch, params), comp.apply_params(batch, params), rtol=0, atol=0)
    # the children keep their own part of the draw too
    assert comp[3].aug.last_params["rate"].shape == (6,)


def test_freeze_replays_the_last_draw(batch):
    aug = AddNoise(seed=0)
    first = aug(batch)
    aug.freeze()
    assert "frozen=True" in repr(aug)
    torch.testing.assert_close(aug(batch), first, rtol=0, atol=0)
    with pytest.raises(ValueError, match="frozen"):
        aug(batch[:2])
    aug.unfreeze()
    assert not torch.equal(aug(batch), first)
    with pytest.raises(RuntimeError, match="nothing drawn"):
        TimeShift().freeze()


def test_frozen_child_inside_compose(batch):
    comp = Compose([TimeShift(0.1), AmplitudeScale(0.5, 2.0)], seed=0)
    comp(batch)
    shift = comp[0].last_params["shift"].clone()
    comp[0].freeze()
    comp(batch)
    assert torch.equal(comp[0].last_params["shift"], shift)


def test_nn_module_apply_still_works():
    seen = []
    seed_compose().apply(lambda m: seen.append(type(m).__name__))
    assert "TimeShift" in seen and "Compose" in seen


# ---------------------------------------------------------------------------------------------- eval
def test_eval_is_identity_and_draws_nothing(batch):
    comp = seed_compose(seed=0, p=(1, 1, 1, 1)).eval()
    state = comp.generator.get_state()
    torch.testing.assert_close(comp(batch), batch, rtol=0, atol=0)
    event = batch[0].numpy()
    np.testing.assert_array_equal(comp(event), event)
    assert torch.equal(comp.generator.get_state(), state)
    comp.train()
    assert not torch.equal(comp(batch), batch)


def test_child_in_eval_is_skipped(batch):
    comp = Compose([AmplitudeScale(2.0, 2.0), AmplitudeScale(3.0, 3.0)], seed=0)
    comp[1].eval()
    torch.testing.assert_close(comp(batch), batch * 2.0)


def test_eval_inside_sequential(batch):
    seq = nn.Sequential(seed_compose(seed=0, p=(1, 1, 1, 1)))
    seq.eval()
    torch.testing.assert_close(seq(batch), batch, rtol=0, atol=0)


# ---------------------------------------------------------------------------------------------- constructors
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: TimeShift(max_shift=1.0), "max_shift must be in"),
        (lambda: TimeShift(max_shift=-0.1), "max_shift must be in"),
        (lambda: TimeShift(max_shift=float("nan")), "max_shift must be finite"),
        (lambda: AddNoise(snr_min=40, snr_max=15), "snr_min=40.0 must be <= snr_max=15.0"),
        (lambda: AddNoise(snr_min=float("inf")), "snr_min must be finite"),
        (lambda: AmplitudeScale(1.1, 0.9), "scale_min=1.1 must be <= scale_max=0.9"),
        (lambda: AmplitudeScale(0.0, 1.0), "scale_min must be > 0"),
        (lambda: TimeStretch(0.0, 1.0), "rate_min must be > 0"),
        (lambda: TimeStretch(1.05, 0.95), "rate_min=1.05 must be <= rate_max=0.95"),
        (lambda: TimeStretch(pad_mode="wrap"), "pad_mode"),
        (lambda: RandomApply(TimeShift(), p=1.5), r"p must be in \[0, 1\], got 1.5"),
        (lambda: RandomApply(TimeShift(), p=-0.1), r"p must be in \[0, 1\]"),
        (lambda: TimeShift(seed=-1), "seed must be None or an integer"),
        (lambda: TimeShift(seed=1.5), "seed must be None or an integer"),
    ],
)
def test_constructor_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: TimeShift(max_shift="0.1"), "max_shift must be a real number"),
        (lambda: RandomApply(nn.Identity(), p=0.5), "aug must be a seiswork augmentation"),
        (lambda: Compose([TimeShift(), nn.Identity()]), r"transforms\[1\] must be a seiswork augmentation"),
        (lambda: Compose(TimeShift()), "must be a list"),
        (lambda: AddNoise(snr_min=True), "snr_min must be a real number"),
    ],
)
def test_constructor_type_errors(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_extra_repr_shows_every_setting():
    text = repr(seed_compose(seed=3))
    for needle in ["seed=3", "p=0.5", "max_shift=0.1", "snr_min=15.0", "snr_max=40.0", "p=0.3",
                   "scale_min=0.9", "scale_max=1.1", "rate_min=0.95", "rate_max=1.05", "pad_mode='reflect'"]:
        assert needle in text
    assert repr(TimeShift(0.2, seed=4)) == "TimeShift(max_shift=0.2, seed=4)"


def test_all_modules_are_augmentations():
    for m in seed_compose().modules():
        if not isinstance(m, nn.ModuleList):
            assert isinstance(m, Augmentation)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_draws_match_cpu(batch):
    cpu = seed_compose(seed=5, p=(1, 1, 1, 1))
    gpu = seed_compose(seed=5, p=(1, 1, 1, 1))
    out_cpu = cpu(batch)
    out_gpu = gpu(batch.cuda())
    assert out_gpu.device.type == "cuda"
    assert torch.equal(cpu.last_params["transforms"][0]["params"]["shift"],
                       gpu.last_params["transforms"][0]["params"]["shift"].cpu())
    torch.testing.assert_close(cpu.last_params["transforms"][3]["params"]["rate"],
                               gpu.last_params["transforms"][3]["params"]["rate"].cpu())
    assert out_cpu.shape == out_gpu.shape


def test_copies_keep_one_shared_stream(batch):
    import copy
    import pickle

    comp = seed_compose(seed=2)
    for clone in (copy.deepcopy(comp), pickle.loads(pickle.dumps(comp))):  # DataLoader workers copy like this
        assert clone[0].aug.generator is clone.generator and clone.generator is not comp.generator
        torch.testing.assert_close(clone(batch), seed_compose(seed=2)(batch), rtol=0, atol=0)


def test_pipeline_moves_like_any_module():
    """``.to()``/``.float()`` go through ``nn.Module._apply``; an augmentation must not shadow it."""
    import torch.nn as nn

    from seiswork.augment import AddNoise, Compose, RandomApply, TimeShift
    from seiswork.transforms import FFTTransform

    pipe = nn.Sequential(Compose([RandomApply(TimeShift(0.1), p=1.0), AddNoise(15, 40)], seed=0), FFTTransform(512))
    assert pipe.to("cpu") is pipe and pipe.float() is pipe
    out = pipe(torch.randn(2, 600, 3))
    assert out.shape == (2, 257, 3)
