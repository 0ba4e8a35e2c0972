"""The analyst notebooks run top to bottom, and are committed without outputs.

Each notebook in ``notebooks/`` is executed with nbclient on the ``python3`` kernel, in a
temporary working directory, so a notebook broken by a change to the package fails the test
suite. nbclient, nbformat and ipykernel are in the ``test`` extra: when they are missing this
module fails (it is not skipped), since a skipped notebook test would hide a broken notebook.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat  # noqa: E402  (the test extra; an ImportError here is a failure, not a skip)
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["01_quote.ipynb", "02_scenarios.ipynb", "03_calibration.ipynb"]
CELL_TIMEOUT = 120  # seconds per cell; each notebook runs in well under a minute
# Run before the notebook's own cells (injected here, never stored in the notebook): a warning
# in a cell is an error, as in the rest of the test suite (pyproject's filterwarnings).
WARNINGS_AS_ERRORS = "import warnings\nwarnings.simplefilter('error')"


def execute(nb, path: Path) -> None:
    """Run ``nb`` in place on a fresh python3 kernel in ``path``, warnings as errors; the
    injected first cell is removed again afterwards."""
    nb.cells.insert(0, nbformat.v4.new_code_cell(WARNINGS_AS_ERRORS))
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path)}})
    try:
        client.execute()  # raises CellExecutionError naming the cell and the error
    finally:
        del nb.cells[0]


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stripped(name):
    """Committed notebooks carry no outputs, no execution counts and no metadata noise."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert set(nb.metadata) <= {"kernelspec", "language_info"}, sorted(nb.metadata)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: cell {i} has outputs"
            assert cell.execution_count is None, f"{name}: cell {i} has an execution count"
        assert not cell.metadata, f"{name}: cell {i} has metadata {dict(cell.metadata)}"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, tmp_path):
    """Runs top to bottom on a fresh kernel; any cell error fails the test with its traceback."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    start = time.perf_counter()
    execute(nb, tmp_path)
    seconds = time.perf_counter() - start
    print(f"{name}: {seconds:.1f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    # nothing was written next to the notebook: files go to a temporary directory
    assert list(tmp_path.iterdir()) == []


def test_a_warning_in_a_notebook_cell_fails(tmp_path):
    """The injected filter has teeth: a cell that warns fails the run, naming the warning."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import warnings\n"
                                          "warnings.warn('stale rate book', UserWarning)")]
    with pytest.raises(CellExecutionError) as failure:
        execute(nb, tmp_path)
    assert (failure.value.ename, failure.value.evalue) == ("UserWarning", "stale rate book")
    assert len(nb.cells) == 1
