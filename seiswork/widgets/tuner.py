"""The augmentation tuner of notebook 03: pick an event, switch augmentations on/off, set their probability
and ranges with sliders, look at the event before/after as the model reads it (waveform and log spectrogram, or
waveform and spectrum), save the pipeline for training.

The logic lives in :class:`~seiswork.widgets.state.TunerState` (no widgets); :class:`AugmentationTuner` only
lays out ipywidgets around it, one row per augmentation of :data:`~seiswork.widgets.state.SPECS`.
"""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from seiswork import plots
from seiswork.data.events import check_sampling_rate
from seiswork.widgets.preview import Events, apply_pipeline, check_representation, describe_draw, preview_figure
from seiswork.widgets.state import SPECS, TunerState, as_state

if TYPE_CHECKING:
    from seiswork.augment import Compose
    from seiswork.transforms import Pipeline

__all__ = ["AugmentationTuner"]


# --------------------------------------------------------------------------------------------- the widget
class AugmentationTuner:
    """ipywidgets UI around a :class:`TunerState`.

    ``x``: (n, time, channel) events (normally ``adapter.x``: preprocessed, as the augmentations see them)
    or a list of events; ``labels``: one per event (``adapter.y`` with ``classes=adapter.classes``, or names).
    ``pipeline``: the starting point (None = the seed's pipeline; a Compose, train pipeline, TunerState,
    dict or JSON path). ``seed``: the pipeline's seed (None: the starting pipeline's own, else 0).
    ``save_path``: where "Save pipeline" writes the JSON (:func:`seiswork.transforms.save_pipeline`).
    ``transform``: the study's eval pipeline (:func:`seiswork.study.make_pipelines`): with a
    SpectrogramTransform inside, the figure shows the log spectrogram before/after as the model reads it;
    otherwise waveform and spectrum (``fft_size``: the FFTTransform's, else ``fft_size`` or 512).

    Attributes for code and tests: ``state``, ``widget`` (the container), ``controls`` (``{name: {"enabled",
    "p", "range"}}`` widgets), ``class_dropdown``, ``event_slider``, ``seed_box``, ``force_all_box``,
    ``draw_button``, ``save_button``, ``status``, ``image`` (the figure as PNG, CSS class
    ``seiswork-tuner-figure``), ``params_text`` (the drawn parameters), ``figure`` (last Figure, closed), ``png`` (its bytes),
    ``n_redraws``, ``last_error``.
    """

    def __init__(
        self,
        x: Any,
        labels: Any,
        classes: Sequence | None = None,
        channels: Sequence[str] = plots.DEFAULT_CHANNELS,
        sampling_rate: float | None = 100.0,
        fft_size: int | None = None,
        pipeline: Any = None,
        save_path: str | Path | None = None,
        seed: int | None = None,
        unit: str = "z-score",
        dpi: int = 80,
        transform: Any = None,
    ) -> None:
        import ipywidgets as w

        check_sampling_rate(sampling_rate)
        self.channels = tuple(channels)
        self.sampling_rate = sampling_rate
        self.transform = transform
        self.representation, self.fft_size = check_representation(transform, sampling_rate, fft_size)
        self.save_path = Path(save_path) if save_path is not None else None
        self.unit = unit
        self.dpi = dpi
        self.events = Events(x, labels, classes, self.channels)
        self.state = as_state(pipeline, seed)
        if self.state.class_name not in self.events.members:
            self.state.class_name = self.events.classes[0]
        self.state.index = min(self.state.index, len(self.events.members[self.state.class_name]) - 1)
        self.figure = None
        self.png = b""
        self.n_redraws = 0
        self.last_error: str | None = None
        self.last_draw = ""
        self._syncing = False  # True while code (not the user) sets widget values: no cascade of redraws

        s = self.state
        self.class_dropdown = w.Dropdown(options=[(str(c), c) for c in self.events.classes], value=s.class_name,
                                         description="class")
        self.event_slider = w.IntSlider(value=s.index, min=0, max=len(self.events.members[s.class_name]) - 1,
                                        description="event", continuous_update=False)
        self.seed_box = w.BoundedIntText(value=s.seed, min=0, max=2**31 - 1, description="seed",
                                         layout=w.Layout(width="170px"))
        self.force_all_box = w.Checkbox(value=s.force_all, description="force all (p=1) in preview", indent=False)
        self.controls: dict[str, dict[str, Any]] = {}
        rows = []
        for name, spec in SPECS.items():
            setting = s.augmentations[name]
            enabled = w.Checkbox(value=setting.enabled, description=name, indent=False, layout=w.Layout(width="150px"))
            p = w.FloatSlider(value=setting.p, min=0.0, max=1.0, step=0.05, description="p", continuous_update=False,
                              readout_format=".2f")
            vals = [setting.params[k] for k in spec.params]
            lo, hi = min(spec.slider[0], *vals), max(spec.slider[1], *vals)
            style = {"description_width": "initial"}
            if spec.is_range:
                rng = w.FloatRangeSlider(value=vals, min=lo, max=hi, step=spec.step, description=spec.label,
                                         continuous_update=False, readout_format=".3g", style=style,
                                         layout=w.Layout(width="420px"))
            else:
                rng = w.FloatSlider(value=vals[0], min=lo, max=hi, step=spec.step, description=spec.label,
                                    continuous_update=False, readout_format=".3g", style=style,
                                    layout=w.Layout(width="420px"))
            self.controls[name] = {"enabled": enabled, "p": p, "range": rng}
            p.disabled = rng.disabled = not setting.enabled
            for widget in (enabled, p, rng):
                widget.observe(self._on_augmentation_change, names="value")
            rows.append(w.HBox([enabled, p, rng]))
        self.draw_button = w.Button(description="New draw", icon="refresh", tooltip="draw new random parameters")
        self.save_button = w.Button(description="Save pipeline", icon="save", button_style="primary",
                                    tooltip=f"write the pipeline JSON to {self.save_path}" if self.save_path else "set save_path first")
        self.status = w.HTML(value="")
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.image.add_class("seiswork-tuner-figure")
        self.params_text = w.Textarea(value="", description="drawn", disabled=True,
                                      layout=w.Layout(width="100%", height="6em"))
        self.params_text.add_class("seiswork-tuner-params")

        self.class_dropdown.observe(self._on_class_change, names="value")
        self.event_slider.observe(self._on_field_change("index", int), names="value")
        self.seed_box.observe(self._on_field_change("seed", int), names="value")
        self.force_all_box.observe(self._on_field_change("force_all", bool), names="value")
        self.draw_button.on_click(lambda _b: self.new_draw())
        self.save_button.on_click(self._on_save_click)

        self.widget = w.VBox([
            w.HBox([self.class_dropdown, self.event_slider, self.seed_box]),
            w.VBox(rows),
            w.HBox([self.force_all_box, self.draw_button, self.save_button, self.status]),
            self.image,
            self.params_text,
        ])
        self.widget.add_class("seiswork-tuner")
        self.redraw()

    # -- public API
    @property
    def pipeline(self) -> "Compose":
        """The pipeline as it will run in training (``force_all`` and ``draw`` do not apply)."""
        return self.state.to_pipeline()

    @property
    def event_index(self) -> int:
        """Global index (into ``x``) of the previewed event."""
        return self.events.global_index(self.state.class_name, self.state.index)

    def train_pipeline(self, fft_size: int = 512) -> "Pipeline":
        """``Pipeline(pipeline, FFTTransform(fft_size), ToTensor())`` (an ``nn.Sequential``): the full train
        transform."""
        from seiswork.transforms import FFTTransform, Pipeline, ToTensor

        return Pipeline(self.pipeline, FFTTransform(fft_size=fft_size), ToTensor())

    def redraw(self) -> None:
        """Apply the preview pipeline to the selected event and update the figure and the drawn parameters."""
        import matplotlib.pyplot as plt

        i = self.event_index
        event = self.events.event(i)
        pipe = self.state.to_pipeline(preview=True)
        augmented = apply_pipeline(pipe, event)
        self.last_draw = describe_draw(pipe, self.sampling_rate)
        forced = " — preview forces p=1" if self.state.force_all else ""
        title = (f"{self.events.names[i]} event {self.state.index} (#{i}), seed {self.state.seed}, "
                 f"draw {self.state.draw}{forced}")
        fig = preview_figure(event, augmented, self.transform, sampling_rate=self.sampling_rate, channels=self.channels,
                             fft_size=self.fft_size, title=title, unit=self.unit)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=self.dpi)
        plt.close(fig)  # the PNG is what is shown; an open pyplot figure would also leak and print twice inline
        self.figure = fig
        self.png = buf.getvalue()
        self.image.value = self.png
        self.params_text.value = self.last_draw
        self.n_redraws += 1

    def new_draw(self) -> None:
        """Same settings, new random draw."""
        self.state.draw += 1
        self._safe_redraw()

    def save(self, path: str | Path | None = None) -> Path:
        """Write the current pipeline as JSON (``seiswork.transforms.save_pipeline``) and return the path."""
        from seiswork.transforms import save_pipeline

        path = Path(path) if path is not None else self.save_path
        if path is None:
            raise ValueError("no path to save to: pass tuner.save(path) or AugmentationTuner(..., save_path=...)")
        result = save_pipeline(self.pipeline, path)
        path = Path(result) if isinstance(result, (str, Path)) else path
        n = len(self.state.enabled)
        self.status.value = f"saved {n} augmentation{'s' if n != 1 else ''} to <code>{path}</code>"
        return path

    def set_state(self, state: TunerState | Mapping) -> None:
        """Replace the state (e.g. ``TunerState.from_dict(params)``) and update the widgets and the figure."""
        new = as_state(state)
        if new.class_name not in self.events.members:
            new.class_name = self.events.classes[0]
        self.events.global_index(new.class_name, new.index)  # raises on a bad index
        self.state = new
        self._sync_widgets()
        self.redraw()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return (f"AugmentationTuner({len(self.events.names)} events, classes={list(self.events.classes)}, "
                f"enabled={self.state.enabled}, seed={self.state.seed})")

    # -- widget callbacks
    def _safe_redraw(self) -> None:
        """Redraw from a callback: an error goes to the status line instead of vanishing in the widget log."""
        try:
            self.redraw()
            self.last_error = None
        except Exception as exc:  # shown to the user; the previous figure stays
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.status.value = f"<span style='color:#b00'>{html.escape(self.last_error)}</span>"

    def _on_augmentation_change(self, change: dict) -> None:
        if self._syncing:
            return
        for name, c in self.controls.items():
            if change["owner"] in c.values():
                spec = SPECS[name]
                value = c["range"].value
                values = tuple(value) if spec.is_range else (value,)
                try:
                    self.state.set(name, enabled=bool(c["enabled"].value), p=float(c["p"].value),
                                   **{k: float(v) for k, v in zip(spec.params, values)})
                except (ValueError, TypeError) as exc:
                    self.last_error = str(exc)
                    self.status.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
                    return
                # a disabled augmentation's sliders are greyed out: they do nothing until it is on again
                c["p"].disabled = c["range"].disabled = not c["enabled"].value
                break
        self._safe_redraw()

    def _on_class_change(self, change: dict) -> None:
        if self._syncing:
            return
        self.state.class_name = change["new"]
        self.state.index = 0
        self._syncing = True
        try:  # moving the slider's max may move its value: that must not trigger a second redraw
            self.event_slider.value = 0
            self.event_slider.max = len(self.events.members[self.state.class_name]) - 1
        finally:
            self._syncing = False
        self._safe_redraw()

    def _on_field_change(self, field: str, convert: type) -> Any:
        """The callback of a widget that sets one state field (``index``, ``seed``, ``force_all``)."""

        def changed(change: dict) -> None:
            if self._syncing:
                return
            setattr(self.state, field, convert(change["new"]))
            self._safe_redraw()

        return changed

    def _on_save_click(self, _button: Any) -> None:
        try:
            self.save()
        except Exception as exc:  # a button has no caller to raise to: show it
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.status.value = f"<span style='color:#b00'>save failed: {html.escape(self.last_error)}</span>"

    def _sync_widgets(self) -> None:
        """Set every widget from ``self.state`` without triggering callbacks."""
        s = self.state
        self._syncing = True
        try:
            self.class_dropdown.value = s.class_name
            self.event_slider.max = len(self.events.members[s.class_name]) - 1
            self.event_slider.value = s.index
            self.seed_box.value = s.seed
            self.force_all_box.value = s.force_all
            for name, c in self.controls.items():
                spec = SPECS[name]
                setting = s.augmentations[name]
                vals = [setting.params[k] for k in spec.params]
                c["range"].min = min(c["range"].min, *vals)
                c["range"].max = max(c["range"].max, *vals)
                c["range"].value = tuple(vals) if spec.is_range else vals[0]
                c["p"].value = setting.p
                c["enabled"].value = setting.enabled
                c["p"].disabled = c["range"].disabled = not setting.enabled
        finally:
            self._syncing = False
