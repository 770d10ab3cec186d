"""Waveforms of the synthetic recordings: P and S bursts, Rg, station noise, gain and NaN padding."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from seiswork.synthetic.recordings import Recordings
from seiswork.synthetic.sources import CHANNELS, Sources

_CHUNK = 128  # recordings synthesised per vectorised block (fixed: the random stream depends on it)


def synthesize(rng: np.random.Generator, sources: Sources, recs: Recordings,
               sr: float) -> tuple[list[pd.DataFrame], np.ndarray, np.ndarray]:
    """Every recording as a DataFrame (time, ``Z, N, E``) in counts, plus its noise rms and peak signal [nm/s]."""
    fc, mag, depth, n_shots = sources.fc, sources.mag, sources.depth, sources.n_shots
    shot_delay, shot_t, shot_w = sources.shot_delay, sources.shot_t, sources.shot_w
    src, kind, is_sig, dist, baz, tp = recs.src, recs.kind, recs.is_sig, recs.dist, recs.baz, recs.tp
    ts, n_samples, pad_head, valid, pre, w0 = recs.ts, recs.n_samples, recs.pad_head, recs.valid, recs.pre, recs.w0
    a_p, a_s = recs.a_p, recs.a_s
    q0_s, q0_p, q_rg, a_rg, kappa = recs.q0_s, recs.q0_p, recs.q_rg, recs.a_rg, recs.kappa
    noise_level, gain = recs.noise_level, recs.gain
    n = len(src)

    nfft = 1 << int(math.ceil(math.log2(n_samples.max())))
    f = np.fft.rfftfreq(nfft, 1.0 / sr)
    # Rg is built on a longer buffer that holds its slowest (2 km/s) arrivals, so nothing wraps around
    n_rg = max(2 * nfft, 1 << int(math.ceil(math.log2((np.max(dist / 2.0 - w0) + 10.0) * sr))))
    f2 = np.fft.rfftfreq(n_rg, 1.0 / sr)
    t = np.arange(nfft) / sr
    anti_alias = 1.0 / np.sqrt(1.0 + (f / (0.4 * sr)) ** 16)

    events: list[pd.DataFrame] = []
    noise_rms = np.empty(n)
    peak = np.empty(n)
    for c0 in range(0, n, _CHUNK):
        sl = slice(c0, min(n, c0 + _CHUNK))
        m = sl.stop - sl.start
        s = src[sl]
        # --- P and S: random-phase spectra shaped by source, path and site, then enveloped
        fcs = np.stack([1.6 * fc[s], fc[s]], axis=1)[:, :, None]  # (m, 2 phases, 1)
        tt = np.stack([tp[sl], ts[sl]], axis=1)[:, :, None]
        q0 = np.stack([q0_p[sl], q0_s[sl]], axis=1)[:, :, None]
        amp = (f / (1.0 + (f / fcs) ** 2)) * np.exp(-np.pi * np.sqrt(f) * tt / q0) \
            * np.exp(-np.pi * kappa[sl, None, None] * f) * anti_alias
        # ripple fire: |sum_k w_k exp(-2 pi i f t_k)| / sum_k w_k (1 for a single shot or an earthquake)
        rip = np.flatnonzero(n_shots[s] > 1)
        if rip.size:
            tk, wk = shot_t[s[rip]][:, :, None], shot_w[s[rip]][:, :, None]
            theta = (2 * np.pi * tk * f).astype(np.float32)
            comb = np.hypot((wk * np.cos(theta)).sum(axis=1), (wk * np.sin(theta)).sum(axis=1)) / wk.sum(axis=1)
            amp[rip] *= comb[:, None, :]
        amp[..., 0] = 0.0
        # unit-variance normalisation: var(irfft(Y)) = 4 sum|amp|^2 / nfft^2 for Y = amp * (a + ib)
        amp *= nfft / (2.0 * np.sqrt((amp ** 2).sum(axis=-1, keepdims=True)))
        # single precision for the bulk random series: plenty for waveforms, twice as fast
        shape = (m, 2, 4, f.size)
        spec = rng.standard_normal(shape, dtype=np.float32) + 1j * rng.standard_normal(shape, dtype=np.float32)
        spec *= amp[:, :, None, :].astype(np.float32)
        bursts = np.fft.irfft(spec, n=nfft, axis=-1)  # (m, phase, primary + 3 scattered, time)
        # envelopes (m, 2, time) with peak 1: rise and coda lengthen with distance and magnitude
        dm = dist[sl, None]
        mag_f = 10.0 ** (0.15 * (mag[s] - 2.0))[:, None]
        rise = np.concatenate([0.03 + 0.002 * dm, 0.08 + 0.006 * dm], axis=1)
        rise += (0.3 * (n_shots[s] - 1) * np.nan_to_num(shot_delay[s]))[:, None]
        coda = np.concatenate([0.5 + 0.012 * dm, 1.0 + 0.03 * dm], axis=1) * mag_f \
            * np.exp(rng.normal(0.0, 0.2, (m, 2)))
        arr = np.stack([pre[sl], pre[sl] + ts[sl] - tp[sl]], axis=1)
        x = np.maximum(t[None, None, :] - arr[:, :, None], 0.0)
        u_pk = rise / (rise + coda)
        env_peak = (1 - u_pk) * u_pk ** (rise / coda)
        env = (1 - np.exp(-x / rise[..., None])) * np.exp(-x / coda[..., None]) / env_peak[..., None]
        env *= (np.stack([a_p[sl], a_s[sl]], axis=1) / 3.0)[..., None]  # unit-std bursts peak near 3
        env = env.astype(np.float32)
        # component weights (Z, R, T) per phase: P steep (on Z), S on the horizontals (SV on R, SH on T)
        inc = np.deg2rad(rng.uniform(15.0, 35.0, m))
        psi = rng.uniform(0.0, np.pi / 2, m) * np.where(kind[sl] == "earthquake", 1.0, 1 / 3)
        w_p = np.stack([np.cos(inc), np.sin(inc), np.full(m, 0.15)], axis=1)
        w_s = np.stack([0.3 * np.cos(psi) + 0.15, np.cos(psi) + 0.2, np.sin(psi) + 0.2], axis=1)
        w = np.stack([w_p, w_s], axis=1).astype(np.float32)  # (m, phase, comp)
        # each component = coherent primary + its own scattered part
        comp = 0.8 * bursts[:, :, :1, :] + 0.6 * bursts[:, :, 1:, :]  # (m, phase, comp, time)
        zrt = (comp * w[..., None] * env[:, :, None, :]).sum(axis=1, dtype=np.float64)
        # --- Rg: dispersed Rayleigh wave, group delay d/U(f) after the window start
        ex = np.flatnonzero(a_rg[sl] > 0)
        if ex.size:
            i = sl.start + ex
            uf = np.clip(3.0 - 0.5 * np.log2(np.maximum(f2, 1e-3) / 0.5), 2.0, 3.2)
            delay = dist[i, None] / uf - w0[i, None]
            phase = 2 * np.pi * np.cumsum(delay, axis=1) * (f2[1] - f2[0])
            band = np.exp(-0.5 * (np.log10(np.maximum(f2, 1e-3)) / 0.2) ** 2)  # centred on 1 Hz
            excite = np.exp(-2 * np.pi * 0.8 * depth[src[i], None] * (f2 - 1.0) / uf)
            atten = np.exp(-np.pi * (f2 - 1.0) * dist[i, None] / (uf * q_rg[i, None]))
            rg_amp = f2 * band * np.minimum(excite * atten, 10.0)
            rg_spec = rg_amp * np.exp(-1j * phase + 1j * rng.uniform(0, 2 * np.pi, (ex.size, 1)))
            rg_z = np.fft.irfft(rg_spec, n=n_rg, axis=-1)
            rg_r = np.fft.irfft(-1j * rg_spec, n=n_rg, axis=-1)  # Hilbert transform: 90 deg out of phase
            scale = a_rg[i] / np.abs(rg_z).max(axis=1)
            zrt[ex, 0] += rg_z[:, :nfft] * scale[:, None]
            zrt[ex, 1] += 0.7 * rg_r[:, :nfft] * scale[:, None]
        zrt[~is_sig[sl]] = 0.0
        # rotate R, T to N, E (ObsPy rotate_rt_ne): n = -r cos(baz) + t sin(baz), e = -r sin(baz) - t cos(baz)
        b = np.deg2rad(baz[sl])[:, None]
        sig = np.stack([zrt[:, 0], -zrt[:, 1] * np.cos(b) + zrt[:, 2] * np.sin(b),
                        -zrt[:, 1] * np.sin(b) - zrt[:, 2] * np.cos(b)], axis=1)
        # --- noise: microseism + cultural (1/f + machinery hump) + instrument floor, per channel
        fpos = np.maximum(f, f[1])
        f_ms = rng.uniform(0.15, 0.3, (m, 1, 1))
        micro = np.exp(-0.5 * (np.log10(fpos / f_ms) / 0.15) ** 2)
        f_hum = 10.0 ** rng.uniform(np.log10(2.0), np.log10(15.0), (m, 1, 1))
        hum = np.exp(-0.5 * (np.log10(fpos / f_hum) / 0.12) ** 2)
        pink = fpos ** -rng.uniform(0.3, 0.8, (m, 1, 1)) * (fpos > 0.5)
        ms_level = 10.0 ** rng.uniform(-0.3, 0.7, (m, 1, 1)) * np.array([1.0, 1.4, 1.4])[None, :, None]
        parts = [(micro, ms_level), (pink, np.ones((m, 3, 1))),
                 (hum, rng.uniform(0.2, 1.0, (m, 3, 1))), (np.ones((1, 1, f.size)), rng.uniform(0.05, 0.2, (m, 3, 1)))]
        power = np.zeros((m, 3, f.size))
        for shape, level in parts:
            # each part at unit variance (see above) times its rms level; the powers add
            shape2 = shape ** 2
            shape2[..., 0] = 0.0
            power += shape2 * ((nfft / 2.0) ** 2 / shape2.sum(axis=-1, keepdims=True)) * level ** 2
        namp = (np.sqrt(power) * anti_alias * noise_level[sl, None, None]).astype(np.float32)
        nspec = rng.standard_normal((m, 3, f.size), dtype=np.float32) \
            + 1j * rng.standard_normal((m, 3, f.size), dtype=np.float32)
        noise = np.fft.irfft(nspec * namp, n=nfft, axis=-1).astype(np.float64)
        for j in range(m):
            L = valid[sl.start + j]
            noise_rms[sl.start + j] = np.sqrt(np.mean(noise[j, :, :L] ** 2))
            peak[sl.start + j] = np.abs(sig[j, :, :L]).max()
        wave = (sig + noise) * (gain[sl, None, None] * rng.normal(1.0, 0.03, (m, 3, 1)))
        for j in range(m):
            g = sl.start + j
            data = np.full((n_samples[g], 3), np.nan)
            data[pad_head[g]: pad_head[g] + valid[g]] = wave[j, :, : valid[g]].T
            events.append(pd.DataFrame(data, columns=list(CHANNELS)))
    return events, noise_rms, peak
