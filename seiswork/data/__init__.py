"""The data layer: events in, preprocessed arrays and datasets out.

Modules, in the order data flows through them:

* :mod:`~seiswork.data.events`: the event layer, one conversion of any event to ``(time, channel)``,
  one label normalisation, channel names;
* :mod:`~seiswork.data.load`: :func:`load_events` and :func:`convert`, path expansion and the choice of
  reader, with one reader module per format: :mod:`~seiswork.data.pickles` (pickled DataFrames, read
  safely), :mod:`~seiswork.data.npz` (our ``.npz``), :mod:`~seiswork.data.seisbench`,
  :mod:`~seiswork.data.obspy_folder` (miniSEED/SAC + catalog); they give an
  :class:`~seiswork.data.eventset.EventSet`;
* :mod:`~seiswork.data.npz`: the one on-disk array format, for event files and preprocessed caches;
* :mod:`~seiswork.data.preprocess`: TransformOP and the DROP_NAN / TRIMMING / ZSCORE steps;
* :mod:`~seiswork.data.split`: the seeded, stratified, event-grouped split;
* :mod:`~seiswork.data.adapter`: :class:`WaveformDataAdapter`, which runs preprocessing and the split
  once and saves/loads the result;
* :mod:`~seiswork.data.dataset`: :class:`WaveformDataset` and seeded DataLoaders.

Import from the modules; the package imports nothing itself, so ``import seiswork.data.load`` does not
import torch.
"""
