"""One helper writes every output file: all appear whole, in order, or none does."""

import os

import pytest

from rating.errors import RatingError
from rating.files import atomic_outputs, write_atomically


def test_outputs_appear_only_when_the_block_succeeds(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    with pytest.raises(RuntimeError, match="the work failed"):
        with atomic_outputs(a, b) as (ta, tb):
            ta.write_text("1\n")
            tb.write_text("2\n")
            raise RuntimeError("the work failed")
    assert os.listdir(tmp_path) == []  # neither output, no temporary file left
    with atomic_outputs(a, b) as (ta, tb):
        ta.write_text("1\n")
        tb.write_text("2\n")
    assert sorted(os.listdir(tmp_path)) == ["a.csv", "b.csv"]
    assert a.read_text() == "1\n" and b.read_text() == "2\n"


def test_outputs_commit_in_the_order_given(tmp_path, monkeypatch):
    order = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (order.append(dst.name), real(src, dst)))
    write_atomically(tmp_path / "summary.csv", "s", (tmp_path / "policies.csv", "p"))
    assert order == ["summary.csv", "policies.csv"]


def test_an_error_on_a_temporary_file_names_the_users_path(tmp_path):
    dst = tmp_path / "out.csv"
    with pytest.raises(RatingError, match=r"out\.csv: cannot write the output") as caught:
        with atomic_outputs(dst) as (temp,):
            os.chmod(tmp_path, 0o500)  # the folder becomes read-only: the rename fails
            temp.write_text("x")
            if os.access(tmp_path, os.W_OK):  # root ignores the mode: fail the same way
                raise PermissionError(13, "Permission denied", str(temp))
    os.chmod(tmp_path, 0o700)
    assert ".tmp" not in str(caught.value)
    assert not dst.exists()


def test_a_missing_folder_is_refused_before_the_block_runs(tmp_path):
    ran = []
    with pytest.raises(RatingError, match="does not exist"):
        with atomic_outputs(tmp_path / "nowhere" / "out.csv"):
            ran.append(True)
    assert ran == []
