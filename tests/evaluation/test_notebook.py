"""The tuning notebook runs top to bottom (nbclient, a real kernel) on the fixture catalogue."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "tune_hybrid_weights.ipynb"


def test_tuning_notebook_executes(built_data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    # a kernel of this very interpreter (.venv), under a name no system-wide kernelspec can shadow
    spec = tmp_path / "jupyter" / "kernels" / "cineblend-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "CineBlend", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("CINEBLEND_EVAL_PARQUET", str(built_data / "parquet"))
    monkeypatch.setenv("CINEBLEND_EVAL_QUICK", "1")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") for c in code_cells), "commit the notebook without outputs"
    # run from notebooks/ as Jupyter would; the notebook finds the repository itself
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="cineblend-test", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "tested users" in text and "Best step by NDCG@10" in text
    assert "Wilcoxon" in text or "identical for every user" in text
    assert "Chosen weights:" in text and "Test NDCG@10: chosen" in text  # tune ran on validation
    shown = [o for o in outputs if o.output_type in ("display_data", "execute_result")]
    # Altair's renderer: a vega-lite bundle, or HTML that embeds it (no notebook frontend here)
    charts = [o for o in shown if any("vega" in k for k in o.data) or "vega" in o.data.get("text/html", "")]
    assert len(charts) == 2  # the sweep and the popularity-weight grid
