"""The built-in default data set: physically motivated synthetic 3-component events.

``make_events`` simulates local recordings (ground velocity in counts, channels ``Z, N, E``) of
earthquakes and quarry blasts at 10-80 km, deterministically from a seed. ``write_default`` stores
them in the seed's pickle format ``(events, labels)`` under ``resources/`` plus a ``.meta.csv`` sidecar,
so the notebooks load them exactly like real data.

Physics (units in brackets)
---------------------------
Each source (one ``event_id``) is recorded by ``stations_per_event`` stations, each at its own
epicentral distance ``d`` [km] (uniform in ``distance_range_km``) and back-azimuth [deg]. Station
positions are drawn per recording, not placed consistently on a map.

* **Travel times.** Hypocentral distance ``r = sqrt(d^2 + h^2)`` [km], ``vp ~ 6.0`` and
  ``vs ~ 3.5`` [km/s] (a few % of scatter per source), so ``t_S - t_P = r (1/vs - 1/vp)`` [s]
  (about 0.12 s per km) grows with distance. Every window starts with 1-4 s of pre-event noise before P.
* **Body-wave wavelets.** P and S are band-limited noise bursts (a random-phase spectrum, so each
  recording differs) under an envelope ``(1 - exp(-x/tau_rise)) exp(-x/tau_coda)``, ``x`` = time
  after the arrival [s]; rise and coda times grow with distance (scattering) and the coda with
  magnitude. Their amplitude spectrum is the ground-velocity Brune spectrum
  ``f / (1 + (f/fc)^2)`` with ``fc = 0.49 beta (dsigma/M0)^(1/3)`` (``M0`` from ``Mw``, stress drop
  ``dsigma`` ~ 3 MPa, so ``fc`` ~ 24 Hz at M2 and ~ 7.5 Hz at M3, capped at 0.45 x sampling rate;
  P uses ``1.6 fc``; magnitudes follow Gutenberg-Richter with b = 1, the same for both classes),
  times anelastic attenuation ``exp(-pi f t / Q(f))`` with ``Q(f) = Q0 f^0.5`` (``Q0_S`` 300-600,
  ``Q0_P = 1.75 Q0_S``, ``t`` the travel time [s]: high frequencies decay faster with distance), times a site term
  ``exp(-pi kappa f)`` (``kappa`` 0.01-0.04 s) and a 0.8-Nyquist anti-alias low-pass.
* **Amplitudes.** The larger body phase has the peak ground velocity given by the local magnitude
  (Hutton & Boore 1987: ``ML = log10 A + 1.11 log10(r/100) + 0.00189 (r-100) + 3``, ``A`` the
  Wood-Anderson amplitude [mm], converted to velocity [nm/s] at 5 Hz): geometric spreading ~ 1/r
  plus attenuation. The other phase follows from the S/P peak-amplitude ratio.
* **Earthquakes** (depth 5-20 km): S/P ~ 2-5 (median ~ 3 at difficulty 0.5); P polarised on Z
  (incidence 15-35 deg), S on the horizontals (random SV/SH mix, SH on the transverse component).
  Too deep to excite Rg.
* **Quarry blasts** (depth 0-1 km): strong P, weak S (S/P ~ 0.5-1.5, mostly SV), and
  * ripple-fire: 3-12 sub-shots ``delay`` 10-50 ms apart (jittered, unequal charges); the source
    spectrum is multiplied by ``|sum_k w_k exp(-2 pi i f t_k)|``, which scallops the spectrum with
    notches every ``1/(n delay)`` Hz and favours low frequencies; the blast duration lengthens the rise;
  * Rg: a dispersed fundamental-mode Rayleigh wave, 0.4-2.5 Hz, group velocity ``U(f)`` from
    3.0 km/s at 0.5 Hz to 2.0 km/s at 2 Hz (longer periods first), arriving after S. Built in the
    frequency domain with group delay ``d/U(f)``; excitation ``exp(-2 pi 0.8 h f / U)`` (vanishes for
    sources deeper than ~ 2 km), spreading ``1/sqrt(d)``, ``Q_Rg`` 60-120; retrograde elliptical motion
    (R = 0.7 x Hilbert(Z)), so it shows on Z and the radial horizontal.
* **Rotation.** Components are built as Z, radial, transverse and rotated to N, E with the
  back-azimuth (ObsPy convention), so N and E differ.
* **Noise** (per recording and channel, ground velocity [nm/s]): a secondary microseism (a
  log-Gaussian band at 0.15-0.3 Hz, stronger on the horizontals), coloured cultural noise (``1/f``
  slope plus a machinery hump at 2-15 Hz) and a white instrument floor; the station noise level
  varies (log-normal), so the SNR varies across recordings (``snr_db`` in ``meta``).
* **Recording.** A random gain [counts per nm/s] per station (~ +-3 % per channel); window lengths
  16-20 s (1600-2000 samples at 100 Hz) with NaN padding at the start and/or end (up to 0.5 s and 1 s),
  never inside.

``difficulty`` in [0, 1] lowers the SNR (station noise x 10 from 0 to 1), pulls the S/P ratio
distributions of the two classes together (and widens them), makes fewer blasts ripple-fired with more
timing jitter, weakens Rg, and above 0.5 lets earthquakes be shallower (down to 2 km).
:func:`spectral_baseline` (a log-spectrum logistic regression) measures how separable a setting is.

A third class, ``"noise"`` (a window of station noise only), can be requested through ``classes``.

Home of each part: :mod:`~seiswork.synthetic.sources` (argument checks, source parameters),
:mod:`~seiswork.synthetic.recordings` (station, path and window per recording; the ``meta`` table),
:mod:`~seiswork.synthetic.waveforms` (P, S, Rg, noise), :mod:`~seiswork.synthetic.generate`
(``make_events``), :mod:`~seiswork.synthetic.writer` (``write_default``, ``default_path``),
:mod:`~seiswork.synthetic.baseline` (``spectral_features``, ``spectral_baseline``).
"""

from __future__ import annotations

from seiswork.synthetic.baseline import spectral_baseline, spectral_features
from seiswork.synthetic.generate import make_events
from seiswork.synthetic.sources import CHANNELS, KINDS
from seiswork.synthetic.writer import default_path, write_default

__all__ = ["make_events", "write_default", "default_path", "spectral_baseline", "spectral_features", "KINDS",
           "CHANNELS"]
