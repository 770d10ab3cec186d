"""The single home of seiswork's defaults.

:class:`seiswork.Study` (and so the notebooks' parameters cells and every command's flags), ``fit``, the
``WaveformDataAdapter``, the loaders and the plots read their defaults from here, so that a study run from a
notebook, from the command line or from Python splits and trains the same data the same way.
"""

CHANNELS = ("Z", "N", "E")  # component order of an event (time, channel)
TEST_RATIO = 0.3  # fraction of all events held out for the test report
VAL_RATIO = 0.15  # fraction of the training part for early stopping and model selection
SEED = 0
# data held on disk and streamed into a memory-mapped cache: "auto" does it when the data files exceed
# LAZY_ABOVE_BYTES (and can be streamed: SeisBench sets, .npz files); README "Larger data and more machines"
LAZY = "auto"
LAZY_ABOVE_BYTES = 2 * 10**9
FFT_SIZE = 512  # samples per spectrum segment: fft_size // 2 + 1 bins
# what the LSTMs read: "spectrogram" (log power in time frames) won on real and built-in data against the seed's
# "spectrum" (one spectrum of the whole trace): README, "The number to beat"; benchmarks/bench_quality.py
REPRESENTATION = "spectrogram"
# the spectrogram also gives each bin relative to its median over the event (its background level): a local
# event under microseism-dominated noise then stands out in its band (README, "The number to beat")
SPECTROGRAM_BACKGROUND = True
HIDDEN = 64
LAYERS = 2
HEADS = 2
DROPOUT = 0.3
# epochs and patience count passes, and a pass over a small set is a few steps: at 20 / 6 an LSTM stopped while
# still learning on small sets (40 Hz, 3 min, Z only: 0.35 -> 0.53-0.74 balanced accuracy at 60 / 15), while on
# PhaseNet early stopping ends both at the same place (README, "The number to beat")
EPOCHS = 60
BATCH_SIZE = 32
LR = 2e-3
WEIGHT_DECAY = 1e-4
PATIENCE = 15  # epochs without a validation macro F1 gain before training stops
# the weights validated and kept are an exponential moving average over epochs, the newest weighing EMA: a
# single LSTM gained 1 point of cross-validated balanced accuracy on PhaseNet (README, "The number to beat")
EMA = 0.5
# models trained from their own seeds whose probabilities are averaged: on small sets one network's score moves by
# points with its seed; 3 averaged gained 1.6 (PhaseNet) to 2.7 (40 Hz stand-in) points over one (README, "The
# number to beat"), at 3x the training time: set 1 for large data sets
MEMBERS = 3
