"""End to end in a real front end: JupyterLab driven by Debian's Chromium (headless, Selenium + chromedriver).

What a user does: open ``03_augmentation_preview.ipynb``, run all cells, move a tuner slider, switch an
augmentation off, watch the figure change, save the pipeline; then open ``04_train_lstm.ipynb`` (one epoch)
and run it to the end. The JupyterLab server is started here on 127.0.0.1 with a random port and token, on
copies of the notebooks in a temporary folder (the committed ones are never touched), with its own HOME,
Jupyter settings and run folder (``$SEISWORK_RUN_DIR``); the data is the project's default data set.

It needs ``/usr/bin/chromium``, ``/usr/bin/chromedriver`` (Debian: ``apt-get install chromium chromium-driver``;
``.ci/run`` installs them), the ``selenium`` package and JupyterLab with ipywidgets. Without them it is
skipped, saying what is missing; with ``SEISWORK_REQUIRE_BROWSER=1`` (set by ``.ci/run``) it fails instead.
``-m "not browser"`` leaves it out. Other paths: ``$SEISWORK_CHROMIUM``, ``$SEISWORK_CHROMEDRIVER``.

Screenshots (tuner before/after, the figure it showed before/after) and, on failure, the page, the server log
and the executed notebooks go to ``$SEISWORK_ARTIFACTS`` (default ``runs/test-artifacts/browser/``; ``runs/``
is ignored by git). Nothing can hang: every wait has a timeout and a watchdog kills the browser and the
server after ``$SEISWORK_BROWSER_TIMEOUT`` seconds (default 420).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ports import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PROJECT = Path(__file__).resolve().parents[1]
NOTEBOOKS = PROJECT / "notebooks"
NB03 = "03_augmentation_preview.ipynb"
NB04 = "04_train_lstm.ipynb"
# a tiny training run: the point is that the notebook runs to the end in the front end, not the model
NB04_PARAMETERS = {"epochs": 1, "hidden": 16, "patience": 1}

CHROMIUM = os.environ.get("SEISWORK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SEISWORK_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("SEISWORK_ARTIFACTS") or PROJECT / "runs" / "test-artifacts" / "browser")
TOTAL_TIMEOUT = float(os.environ.get("SEISWORK_BROWSER_TIMEOUT", "420"))
# Flags that work in a sandbox without network (as root too); the user-data dir is added per run.
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
    "--metrics-recording-only", "--window-size=1400,2000",
)
# JupyterLab user settings: no news pop-up, every cell attached to the page (prompts and outputs readable)
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none", "recordTiming": True},
}


# ------------------------------------------------------------------------------------------------ prerequisites
def _missing() -> list[str]:
    missing = []
    for path, what in ((CHROMIUM, "Chromium"), (CHROMEDRIVER, "chromedriver")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            missing.append(f"{what} at {path} (Debian: apt-get install chromium chromium-driver)")
    for module, package in (("selenium", "selenium"), ("jupyterlab", "jupyterlab"), ("ipywidgets", "ipywidgets"),
                            ("jupyterlab_widgets", "jupyterlab_widgets"), ("ipykernel", "ipykernel")):
        if importlib.util.find_spec(module) is None:
            missing.append(f"Python package {package} (pip install {package})")
    return missing


@pytest.fixture(scope="module")
def prerequisites() -> None:
    missing = _missing()
    if missing:
        reason = "browser test needs " + "; ".join(missing) + " (.ci/run installs them)"
        if os.environ.get("SEISWORK_REQUIRE_BROWSER", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason + "; SEISWORK_REQUIRE_BROWSER is set, so this is an error, not a skip")
        pytest.skip(reason)


# ------------------------------------------------------------------------------------------------ artifacts
# what this test writes there (only these are removed before a run: the folder may be the user's)
ARTIFACT_NAMES = (
    "tuner_before.png", "tuner_after.png", "figure_before.png", "figure_after.png", "augmentation.json",
    "page_04_end.png", "failure.png", "failure.html", "jupyter-server.log", "browser-console.log", NB03, NB04,
)


@pytest.fixture
def artifacts() -> Path:
    """The artifacts folder, without the files of an earlier run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in ARTIFACT_NAMES:
        with contextlib.suppress(FileNotFoundError):
            (ARTIFACTS / name).unlink()
    print(f"\nbrowser test artifacts: {ARTIFACTS}")
    return ARTIFACTS


# ------------------------------------------------------------------------------------------------ the server
class Lab:
    """A JupyterLab server on 127.0.0.1 with a random port and token, serving ``root``."""

    def __init__(self, base: Path) -> None:
        self.root, self.home, self.run_dir = base / "root", base / "home", base / "run"
        self.runtime = self.home / "runtime"
        for d in (self.root, self.home, self.run_dir, self.runtime):
            d.mkdir(parents=True, exist_ok=True)
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = base / "jupyter-server.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90.0) -> None:
        settings = self.home / "lab-settings"
        for name, value in LAB_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        env = dict(os.environ)
        env.update(
            HOME=str(self.home),  # user settings and caches of the person running the tests do not interfere
            JUPYTER_CONFIG_DIR=str(self.home / "jupyter-config"),
            JUPYTER_DATA_DIR=str(self.home / "jupyter-data"),  # the venv's python3 kernelspec stays visible (sys.prefix)
            JUPYTER_RUNTIME_DIR=str(self.runtime),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.home / "lab-workspaces"),
            IPYTHONDIR=str(self.home / "ipython"),
            MPLCONFIGDIR=str(self.home / "matplotlib"),
            SEISWORK_RUN_DIR=str(self.run_dir),  # the notebooks' results (run_dir = None) go here
            PYTHONUNBUFFERED="1",
        )
        # one torch/BLAS thread in the kernels: on a busy CI machine OpenMP threads spinning against other
        # processes make a one-epoch training take minutes instead of seconds
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env.setdefault(var, "1")
        env.pop("JUPYTER_TOKEN", None)
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={self.root}",
            "--ServerApp.allow_root=True",  # CI runs as root
            "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",  # no network
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if self.api("GET", "/api/status", timeout=5) is not None:
                    return
            time.sleep(0.5)
        raise TimeoutError(f"JupyterLab did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}")

    def api(self, method: str, path: str, timeout: float = 10.0):
        req = urllib.request.Request(self.url + path, method=method, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else {}

    def page(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?reset&token={self.token}"

    def shutdown_kernels(self) -> None:
        with contextlib.suppress(Exception):
            for session in self.api("GET", "/api/sessions"):
                self.api("DELETE", f"/api/sessions/{session['id']}", timeout=20)

    def kernel_state(self, name: str) -> str | None:
        """The execution state the server reports for the kernel of notebook ``name`` (None: no kernel)."""
        with contextlib.suppress(Exception):
            for session in self.api("GET", "/api/sessions"):
                if session.get("path") == name and session.get("kernel"):
                    return session["kernel"].get("execution_state")
        return None

    def log_tail(self, n: int = 4000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-n:]
        return ""

    def kill(self) -> None:
        """Stop the server (SIGTERM: it shuts its kernels down), then kill what is left of it and its kernels."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        # kernels run in their own sessions; they are ours when their connection file lies in our runtime dir
        for pid in _pids_with_argument(str(self.runtime)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if getattr(self, "_log", None) is not None:
            self._log.close()


def _pids_with_argument(text: str) -> list[int]:
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(proc.name))
    return [p for p in pids if p != os.getpid()]


def _prepare_notebooks(root: Path) -> None:
    """Copies of 03 (as committed) and 04 with tiny parameters injected the papermill way."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    shutil.copy(NOTEBOOKS / NB03, root / NB03)
    nb = load_notebook_node(str(NOTEBOOKS / NB04))
    nb = parameterize_notebook(nb, NB04_PARAMETERS)
    nbformat.write(nb, root / NB04)


@pytest.fixture
def lab(prerequisites, artifacts, tmp_path_factory) -> Lab:
    base = Path(tempfile.mkdtemp(prefix="seiswork-lab-", dir=tmp_path_factory.getbasetemp()))
    server = Lab(base)
    _prepare_notebooks(server.root)
    try:
        server.start()
        yield server
    finally:
        server.shutdown_kernels()
        server.kill()
        with contextlib.suppress(OSError):
            if ARTIFACTS.is_dir():
                shutil.copy(server.log_path, ARTIFACTS / "jupyter-server.log")


# ------------------------------------------------------------------------------------------------ the browser
@pytest.fixture
def browser(prerequisites, artifacts, tmp_path_factory, monkeypatch):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # Selenium Manager must never download anything; with the driver path given it is not even started
    monkeypatch.setenv("SE_OFFLINE", "true")
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path_factory.getbasetemp()))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.unhandled_prompt_behavior = "accept"  # a "leave page?" prompt must not block navigation
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, log_output=str(profile.parent / f"{profile.name}-chromedriver.log"))

    def kill() -> None:
        """chromedriver, then every Chromium process of our own profile (found by its unique folder)."""
        if service.process is not None and service.process.poll() is None:
            service.process.kill()
        for pid in _pids_with_argument(f"--user-data-dir={profile}"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    driver = webdriver.Chrome(service=service, options=options)
    driver.seiswork_kill = kill  # for the watchdog
    try:
        driver.set_page_load_timeout(90)
        driver.set_script_timeout(30)
        yield driver
    finally:
        with contextlib.suppress(Exception):
            logs = driver.get_log("browser")
            (ARTIFACTS / "browser-console.log").write_text(
                "\n".join(f"{e.get('level')} {e.get('message')}" for e in logs) + "\n")
        try:
            driver.quit()
        except Exception:
            pass  # e.g. the watchdog killed it; what is left goes below
        finally:
            kill()


@pytest.fixture
def watchdog(lab, browser):
    """Kill browser and server after TOTAL_TIMEOUT seconds: every pending wait then errors out."""
    def fire() -> None:
        print(f"\nbrowser test: watchdog fired after {TOTAL_TIMEOUT:.0f} s; killing browser and server", flush=True)
        with contextlib.suppress(Exception):
            browser.seiswork_kill()
        lab.kill()

    timer = threading.Timer(TOTAL_TIMEOUT, fire)
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()


# ------------------------------------------------------------------------------------------------ page helpers
def _wait(driver, condition, timeout: float, what: str):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.25).until(condition)
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}") from None


def _menu(driver, label: str, command: str) -> None:
    """Click a menu-bar menu, then one of its items (by JupyterLab command id), as a user does."""
    from selenium.webdriver.common.by import By

    _wait(driver, lambda d: d.find_elements(By.XPATH, f"//div[contains(@class,'lm-MenuBar-itemLabel') and text()='{label}']"),
          30, f"the {label} menu")[0].click()
    item = _wait(driver, lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, f".lm-Menu-item[data-command='{command}']")
                                    if e.is_displayed()], 10, f"menu item {command}")[0]
    item.click()


def _open_notebook(driver, lab: Lab, name: str) -> None:
    from selenium.webdriver.common.by import By

    import nbformat

    n_cells = len(nbformat.read(lab.root / name, as_version=4).cells)
    driver.get(lab.page(name))
    _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")) == n_cells,
          90, f"{name} to open with its {n_cells} cells")
    # the page must be connected to a started kernel before Run All, or JupyterLab runs nothing
    _wait(driver, lambda d: _kernel_status(d) == "idle" and lab.kernel_state(name) == "idle" and "| Idle" in
          d.execute_script("return (document.querySelector('#jp-main-statusbar') || {}).textContent || ''"),
          90, f"the kernel of {name} to start and connect")


# What the page says about the visible notebook: prompts of the code cells, kernel status, error outputs.
_NOTEBOOK_STATE_JS = """
const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
if (!panel) return null;
const prompts = Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')).map(e => e.textContent.trim());
const ind = panel.querySelector('.jp-Notebook-ExecutionIndicator');
const errors = Array.from(panel.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'))
  .map(e => e.textContent).filter(t => /Traceback|Error\\b|Exception\\b/.test(t));
return {prompts: prompts, status: ind ? ind.getAttribute('data-status') : null, errors: errors};
"""


def _kernel_status(driver) -> str | None:
    state = driver.execute_script(_NOTEBOOK_STATE_JS)
    return state and state["status"]


def _run_all(driver, name: str, timeout: float) -> None:
    """Run > Run All Cells; wait until every code cell has its execution count and the kernel is idle."""
    import re

    _menu(driver, "Run", "runmenu:run-all")

    def done(d):
        state = d.execute_script(_NOTEBOOK_STATE_JS)
        if state and state["errors"]:
            raise AssertionError(f"{name}: error output in the page:\n" + "\n---\n".join(state["errors"])[-3000:])
        finished = state and state["prompts"] and all(re.fullmatch(r"\[\d+\]:", p) for p in state["prompts"])
        return finished and state["status"] == "idle"

    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    _wait(driver, lambda d: any(p != "[ ]:" for p in d.execute_script(_NOTEBOOK_STATE_JS)["prompts"]), 30,
          f"Run All to start executing {name}")
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.5).until(done)
    except TimeoutException:
        state = driver.execute_script(_NOTEBOOK_STATE_JS)
        raise AssertionError(f"{name} did not finish within {timeout:.0f} s; prompts {state and state['prompts']}, "
                             f"kernel {state and state['status']}") from None


def _save_notebook(driver, lab: Lab, name: str) -> dict:
    """File > Save Notebook; returns the saved file (nbformat) once it is written."""
    import nbformat

    path = lab.root / name
    before = path.stat().st_mtime_ns
    _menu(driver, "File", "docmanager:save")
    _wait(driver, lambda d: path.stat().st_mtime_ns != before, 30, f"{name} to be saved")
    for _ in range(20):  # the server writes atomically, but read again if we caught it half-way
        try:
            return nbformat.read(path, as_version=4)
        except Exception:
            time.sleep(0.25)
    return nbformat.read(path, as_version=4)


def _check_saved_notebook(nb, name: str) -> None:
    """No error output and every code cell executed, as saved by JupyterLab."""
    errors, unrun = [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("execution_count") is None:
            unrun.append(i)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
    assert not errors, f"{name} has error outputs: {errors}"
    assert not unrun, f"{name}: code cells {unrun} were not executed"


# ------------------------------------------------------------------------------------------------ tuner helpers
def _tuner(driver):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .seiswork-tuner")


def _figure(driver) -> tuple[str, bytes]:
    """The tuner figure's ``src`` and the PNG bytes it shows (read back from the page)."""
    src, data = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const img = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .seiswork-tuner img.seiswork-tuner-figure');
        if (!img || !img.src) { done([null, null]); return; }
        fetch(img.src).then(r => r.arrayBuffer()).then(buf => {
            const bytes = new Uint8Array(buf); let s = '';
            for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
            done([img.src, btoa(s)]);
        }).catch(e => done([img.src, null]));
    """)
    return src, base64.b64decode(data) if data else b""


def _wait_figure_change(driver, old: tuple[str, bytes], what: str, timeout: float = 60) -> tuple[str, bytes]:
    def changed(d):
        src, png = _figure(d)
        return (src, png) if src and src != old[0] and png and png != old[1] else False

    return _wait(driver, changed, timeout, f"the tuner figure to change after {what} (the redraw callback)")


def _row(driver, augmentation: str):
    """The tuner row (checkbox, p slider, range slider) of one augmentation."""
    from selenium.webdriver.common.by import By

    return _tuner(driver).find_element(
        By.XPATH, f".//div[contains(@class,'widget-hbox')][.//input[@type='checkbox'] and .//span[@title='{augmentation}']]")


def _sliders(row):
    from selenium.webdriver.common.by import By

    return row.find_elements(By.CSS_SELECTOR, ".widget-slider")


def _drag(driver, slider, fraction: float) -> None:
    """Drag the slider's (first) handle to ``fraction`` of its track with the mouse, and release."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    track = slider.find_element(By.CSS_SELECTOR, ".noUi-base")
    handle = slider.find_element(By.CSS_SELECTOR, ".noUi-handle")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", slider)
    t, h = track.rect, handle.rect
    dx = (t["x"] + fraction * t["width"]) - (h["x"] + h["width"] / 2)
    ActionChains(driver).move_to_element(handle).click_and_hold().move_by_offset(int(dx / 2), 0) \
        .move_by_offset(int(dx) - int(dx / 2), 0).release().perform()


def _readout(slider) -> str:
    from selenium.webdriver.common.by import By

    return slider.find_element(By.CSS_SELECTOR, ".widget-readout").text.strip()


def _click_checkbox(driver, container) -> None:
    from selenium.webdriver.common.by import By

    box = container.find_element(By.CSS_SELECTOR, "input[type='checkbox']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.click()


def _shot(driver, element, path: Path) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", element)
    time.sleep(0.3)  # let the scroll settle
    element.screenshot(str(path))


# ------------------------------------------------------------------------------------------------ the test
def test_tuner_and_training_in_jupyterlab(lab: Lab, browser, watchdog, artifacts: Path) -> None:
    from selenium.webdriver.common.by import By

    from seiswork.transforms import load_pipeline
    from seiswork.widgets import TunerState

    driver = browser
    pipeline_path = lab.run_dir / "augmentation.json"
    try:
        # ---- 03: open, run all, the tuner appears with its figure
        _open_notebook(driver, lab, NB03)
        _run_all(driver, NB03, timeout=180)
        _wait(driver, lambda d: _figure(d)[1], 60, "the tuner and its figure")
        _check_saved_notebook(_save_notebook(driver, lab, NB03), NB03)
        assert pipeline_path.exists(), f"running {NB03} did not write {pipeline_path}"
        saved_by_run = pipeline_path.read_bytes()
        tuner = _tuner(driver)
        status = tuner.find_element(By.CSS_SELECTOR, ".widget-html-content")
        params = tuner.find_element(By.CSS_SELECTOR, ".seiswork-tuner-params textarea")
        start = _figure(driver)
        (artifacts / "figure_before.png").write_bytes(start[1])
        _shot(driver, tuner, artifacts / "tuner_before.png")

        # ---- the preview applies every enabled augmentation, so each change below must show in the figure
        _click_checkbox(driver, tuner.find_element(
            By.XPATH, ".//div[contains(@class,'widget-checkbox')][.//span[starts-with(@title,'force all')]]"))
        _wait(driver, lambda d: (lambda text: text and all("(p=1.00)" in line for line in text.splitlines()))(
            params.get_attribute("value")), 60, "the preview to redraw with every augmentation forced (p=1.00)")
        start = _figure(driver)  # the new baseline (the same figure when every augmentation was applied already)

        # ---- move the TimeShift "max shift" slider (0.1 → about 0.3 of its 0..0.5 range)
        max_shift = _sliders(_row(driver, "TimeShift"))[1]
        old_readout = _readout(max_shift)
        _drag(driver, max_shift, 0.6)
        _wait(driver, lambda d: _readout(max_shift) != old_readout, 20, "the max-shift slider to move")
        new_max_shift = float(_readout(max_shift))
        after_slider = _wait_figure_change(driver, start, f"moving max shift {old_readout} → {new_max_shift}")

        # ---- switch AddNoise off
        _click_checkbox(driver, _row(driver, "AddNoise"))
        after_toggle = _wait_figure_change(driver, after_slider, "switching AddNoise off")
        _wait(driver, lambda d: "AddNoise" not in params.get_attribute("value"), 30,
              "the drawn-parameters text to drop AddNoise")
        assert "#b00" not in status.get_attribute("innerHTML"), f"the tuner reports an error: {status.text}"
        page_errors = driver.execute_script(_NOTEBOOK_STATE_JS)["errors"]
        assert not page_errors, "error output in the page after using the tuner:\n" + "\n---\n".join(page_errors)

        # ---- save: the pipeline JSON on disk has the new values
        tuner.find_element(By.XPATH, ".//button[contains(., 'Save pipeline')]").click()
        _wait(driver, lambda d: pipeline_path.read_bytes() != saved_by_run, 30, f"Save pipeline to rewrite {pipeline_path}")
        _wait(driver, lambda d: "saved 3 augmentations" in status.text, 30, "the tuner to confirm the save")
        shutil.copy(pipeline_path, artifacts / "augmentation.json")
        state = TunerState.from_pipeline(load_pipeline(pipeline_path))
        assert not state.augmentations["AddNoise"].enabled, f"AddNoise is still on in {pipeline_path}"
        assert state.augmentations["TimeShift"].enabled
        assert state.augmentations["TimeShift"].params["max_shift"] == pytest.approx(new_max_shift, abs=1e-3)
        assert abs(new_max_shift - 0.1) > 0.05, f"the slider barely moved: max shift {new_max_shift}"
        for name in ("AmplitudeScale", "TimeStretch"):
            assert state.augmentations[name].enabled, f"{name} was switched off in {pipeline_path}"

        (artifacts / "figure_after.png").write_bytes(after_toggle[1])
        _shot(driver, _tuner(driver), artifacts / "tuner_after.png")
        assert hashlib.sha256(after_toggle[1]).digest() != hashlib.sha256(start[1]).digest()
        nb03 = _save_notebook(driver, lab, NB03)  # also: no "unsaved changes" prompt when leaving the page
        _check_saved_notebook(nb03, NB03)
        shutil.copy(lab.root / NB03, artifacts / NB03)
        lab.shutdown_kernels()

        # ---- 04: open, run all (one epoch, the pipeline just saved), no errors
        _open_notebook(driver, lab, NB04)
        _run_all(driver, NB04, timeout=240)
        nb04 = _save_notebook(driver, lab, NB04)
        shutil.copy(lab.root / NB04, artifacts / NB04)
        driver.save_screenshot(str(artifacts / "page_04_end.png"))
        _check_saved_notebook(nb04, NB04)
        assert (lab.run_dir / "lstm" / "metrics.json").exists(), "04 wrote no lstm/metrics.json"
    except BaseException:
        with contextlib.suppress(Exception):
            driver.save_screenshot(str(artifacts / "failure.png"))
            (artifacts / "failure.html").write_text(driver.page_source)
        for name in (NB03, NB04):
            with contextlib.suppress(OSError):
                shutil.copy(lab.root / name, artifacts / name)
        print(f"\nbrowser test failed; screenshots, page and server log in {artifacts}\n"
              f"server log tail:\n{lab.log_tail(2000)}")
        raise
